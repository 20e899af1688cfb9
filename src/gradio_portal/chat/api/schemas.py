"""The JSON shapes of the chat API (pydantic models, documented in the OpenAPI schema)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from gradio_portal.chat.attachments import AttachmentInfo
from gradio_portal.chat.repository import ConversationInfo, StoredMessage

__all__ = [
    "ATTACHMENTS_PREFIX",
    "RATINGS",
    "AttachmentOut",
    "ConversationDetail",
    "ConversationList",
    "ConversationOut",
    "FileOut",
    "MessageOut",
    "attachment_out",
    "conversation_out",
    "file_out",
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


ATTACHMENTS_PREFIX = "/api/attachments"
"""Where files are uploaded, and each one downloaded (``<prefix>/<id>``)."""


class FileOut(BaseModel):
    """A file attached to a message; ``url`` downloads it (its owner only)."""

    id: int
    filename: str
    media_type: str
    kind: Literal["text", "image"]
    size: int
    url: str


class AttachmentOut(FileOut):
    """An uploaded file: send its ``id`` with a message to attach it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 42,
                    "filename": "notes.md",
                    "media_type": "text/markdown",
                    "kind": "text",
                    "size": 1834,
                    "url": "/api/attachments/42",
                    "created_at": "2026-12-02T09:30:00Z",
                }
            ]
        }
    )

    created_at: datetime


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
    attachments: list[FileOut] = []
    """The files sent with a user message."""


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


def file_out(info: AttachmentInfo) -> FileOut:
    return FileOut(
        id=info.id,
        filename=info.filename,
        media_type=info.media_type,
        kind=info.kind,
        size=info.size,
        url=f"{ATTACHMENTS_PREFIX}/{info.id}",
    )


def attachment_out(info: AttachmentInfo) -> AttachmentOut:
    return AttachmentOut(**file_out(info).model_dump(), created_at=info.created_at)


def message_out(message: StoredMessage, files: Iterable[AttachmentInfo] = ()) -> MessageOut:
    return MessageOut(
        id=message.id,
        role=message.role,
        content=message.content,
        complete=message.complete,
        error=message.error,
        created_at=message.created_at,
        feedback=RATINGS.get(message.feedback),
        feedback_comment=message.feedback_comment,
        attachments=[file_out(info) for info in files],
    )
