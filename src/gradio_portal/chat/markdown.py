"""A conversation as a Markdown document (the export download), and messages as safe HTML."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from gradio_portal.chat.repository import ConversationInfo, StoredMessage

__all__ = [
    "INTERRUPTED",
    "LINK_REL",
    "conversation_markdown",
    "markdown_html",
    "markdown_text",
    "notice_for",
]

INTERRUPTED = (
    "This reply is incomplete: it was interrupted, or is still being written in another window."
)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>&])")
_SPEAKERS = {"user": "You", "assistant": "Assistant", "system": "System"}
LINK_REL = "noopener noreferrer nofollow"
"""The ``rel`` of every link in rendered messages: the page that opens it stays unnamed."""


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
        if message.feedback is not None:
            rating = "👍" if message.feedback > 0 else "👎"
            comment = message.feedback_comment
            lines += ["", f"*Rated {rating}*" + (f": {markdown_text(comment)}" if comment else "")]
        lines.append("")
    return "\n".join(lines)


def markdown_text(text: str) -> str:
    """``text`` on one line, shown literally inside Markdown (a display name is not markup)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def markdown_html(text: str) -> str:
    """A message's Markdown as HTML that is safe to put in a page.

    CommonMark with tables and strikethrough, a line break where the text has one. HTML in the
    text is escaped, never passed through; links with a scheme that runs code (``javascript:``,
    ``data:`` and the like) stay text; every link gets ``rel="noopener noreferrer nofollow"``;
    images become links, so a message loads nothing by itself.
    """
    html: str = _RENDERER.render(text)
    return html


def _link_open(
    renderer: RendererHTML,
    tokens: Sequence[Token],
    index: int,
    options: OptionsDict,
    env: EnvType,
) -> str:
    tokens[index].attrSet("rel", LINK_REL)
    return renderer.renderToken(tokens, index, options, env)


def _renderer() -> MarkdownIt:
    markdown = MarkdownIt("js-default", {"html": False, "linkify": False, "breaks": True})
    markdown.disable("image")
    add_rule: Any = markdown.add_render_rule
    add_rule("link_open", _link_open)
    return markdown


_RENDERER = _renderer()
