"""A conversation as a Markdown document, for the export download."""

from __future__ import annotations

import re
from collections.abc import Iterable

from gradio_portal.chat.repository import ConversationInfo, StoredMessage

__all__ = ["INTERRUPTED", "conversation_markdown", "markdown_text", "notice_for"]

INTERRUPTED = (
    "This reply is incomplete: it was interrupted, or is still being written in another window."
)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>&])")
_SPEAKERS = {"user": "You", "assistant": "Assistant", "system": "System"}


def notice_for(message: StoredMessage) -> str | None:
    """Why a reply is incomplete, in one line; None for a complete message."""
    if message.error:
        return " ".join(message.error.split())
    if not message.complete:
        return INTERRUPTED
    return None


def conversation_markdown(
    conversation: ConversationInfo, messages: Iterable[StoredMessage], *, author: str
) -> str:
    """The conversation as Markdown: a heading, then each message under its speaker.

    Message text is reproduced as written (it is the user's own Markdown); the title and the
    author are escaped onto one line, so they cannot open other blocks or carry HTML.
    """
    title = markdown_text(conversation.title) or "Conversation"
    lines = [
        f"# {title}",
        "",
        f"*{markdown_text(author)}, started {conversation.created_at:%Y-%m-%d %H:%M} UTC*",
        "",
    ]
    for message in messages:
        speaker = _SPEAKERS.get(message.role, message.role)
        lines += [f"## {speaker} ({message.created_at:%Y-%m-%d %H:%M} UTC)", "", message.content]
        notice = notice_for(message)
        if notice:
            lines += ["", f"> ⚠️ {notice}"]
        lines.append("")
    return "\n".join(lines)


def markdown_text(text: str) -> str:
    """``text`` on one line, shown literally inside Markdown (a display name is not markup)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))
