"""The JSON shapes of the chat API (pydantic models, documented in the OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from gradio_portal.chat.repository import ConversationInfo, StoredMessage

__all__ = [
    "ConversationDetail",
    "ConversationList",
    "ConversationOut",
    "MessageOut",
    "conversation_out",
    "message_out",
]


class ConversationOut(BaseModel):
    """A conversation without its messages."""

    id: int
    title: str
    created_at: datetime
    updated_at: datetime


class MessageOut(BaseModel):
    """One message; ``complete`` is false for a reply cut off by stop, an error or a crash."""

    id: int
    role: str
    content: str
    complete: bool
    error: str | None
    created_at: datetime


class ConversationList(BaseModel):
    """One page of conversations, most recently active first."""

    items: list[ConversationOut]
    total: int
    limit: int
    offset: int


class ConversationDetail(ConversationOut):
    """A conversation with all its messages, oldest first."""

    messages: list[MessageOut]


def conversation_out(info: ConversationInfo) -> ConversationOut:
    return ConversationOut(
        id=info.id, title=info.title, created_at=info.created_at, updated_at=info.updated_at
    )


def message_out(message: StoredMessage) -> MessageOut:
    return MessageOut(
        id=message.id,
        role=message.role,
        content=message.content,
        complete=message.complete,
        error=message.error,
        created_at=message.created_at,
    )
