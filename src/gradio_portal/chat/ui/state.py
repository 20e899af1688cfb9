"""What a chat page keeps between its events, and the values that arrive from its URL.

A page's state lives on the server, in ``gr.State`` values that the browser cannot set: the
conversation the page writes to (an ``int`` or None) and a :class:`PendingReply`. Anything that
arrives from the browser (the ``?c=`` of the address bar, the sidebar's choice) is parsed by
:func:`parse_conversation_id` before the page uses it.
"""

from __future__ import annotations

from gradio_portal.chat.repository import Turn

__all__ = ["NOT_FOUND", "PLACEHOLDER", "SIDEBAR_LIMIT", "PendingReply", "parse_conversation_id"]

SIDEBAR_LIMIT = 50
"""Conversations listed in the sidebar; the API lists them all."""

NOT_FOUND = "That conversation does not exist, or it is not yours. Here is a new chat instead."
"""The notice for a ``?c=`` the page cannot show: the same whether it is missing or foreign."""

PLACEHOLDER = "### How can I help?\nYour conversations are saved: find them in the sidebar."
"""What the empty chat shows."""


def parse_conversation_id(raw: object) -> int | None:
    """A conversation id from the URL or a widget; None for anything but 1-18 ASCII digits."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw if 0 < raw < 2**63 else None
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 18:
        return int(raw) or None
    return None


class PendingReply:
    """A page's turn between storing the user message and streaming the reply to it.

    Mutable and shared by reference: Gradio hands a gr.State's own object to every event of
    the page, so ``busy`` (set once a turn is stored, cleared when its reply ends) is seen by
    the next submit while the reply streams.

    It also holds what the next message takes along: the files attached to it (id and name,
    stored already) and, for a new chat, the model and system prompt chosen.
    """

    __slots__ = ("attachments", "busy", "model", "shown", "system_prompt", "turn")

    def __init__(self) -> None:
        self.turn: Turn | None = None
        self.shown: list[dict[str, str]] = []
        self.busy = False
        self.attachments: list[tuple[int, str]] = []
        self.model: str | None = None
        self.system_prompt: str | None = None
