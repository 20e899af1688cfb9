"""The JSON shapes of the chat API (pydantic models, documented in the OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from gradio_portal.chat.repository import ConversationInfo, StoredMessage

__all__ = [
    "RATINGS",
    "ConversationDetail",
    "ConversationList",
    "ConversationOut",
    "MessageOut",
    "conversation_out",
    "message_out",
]


class ConversationOut(BaseModel):
    """A conversation without its messages; ``model`` and ``system_prompt`` null: the defaults."""

    id: int
    title: str
    created_at: datetime
    updated_at: datetime
    model: str | None = None
    system_prompt: str | None = None


class MessageOut(BaseModel):
    """One message; ``complete`` is false for a reply cut off by stop, an error or a crash."""

    id: int
    role: str
    content: str
    complete: bool
    error: str | None
    created_at: datetime
    feedback: Literal["up", "down"] | None = None
    """The owner's rating of a reply."""
    feedback_comment: str | None = None


class ConversationList(BaseModel):
    """One page of conversations, most recently active first."""

    items: list[ConversationOut]
    total: int
    limit: int
    offset: int


class ConversationDetail(ConversationOut):
    """A conversation with all its messages, oldest first."""

    messages: list[MessageOut]


RATINGS: dict[int | None, Literal["up", "down"] | None] = {1: "up", -1: "down", None: None}
"""Stored ratings as the API names them."""


def conversation_out(info: ConversationInfo) -> ConversationOut:
    return ConversationOut(
        id=info.id,
        title=info.title,
        created_at=info.created_at,
        updated_at=info.updated_at,
        model=info.model,
        system_prompt=info.system_prompt,
    )


def message_out(message: StoredMessage) -> MessageOut:
    return MessageOut(
        id=message.id,
        role=message.role,
        content=message.content,
        complete=message.complete,
        error=message.error,
        created_at=message.created_at,
        feedback=RATINGS.get(message.feedback),
        feedback_comment=message.feedback_comment,
    )
