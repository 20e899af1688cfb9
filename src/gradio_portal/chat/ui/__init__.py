"""The chat page: a user's conversations in a sidebar, the open one, streamed replies and stop.

:func:`build_chat_blocks` (in :mod:`.page`) assembles it from three parts: :mod:`.layout`
(the components and their arrangement, and the CSS), :mod:`.handlers` (the event functions)
and :mod:`.state` (what a page keeps between events, and the ids that arrive from its URL).
"""

from __future__ import annotations

from gradio_portal.chat.ui.layout import CHAT_CSS
from gradio_portal.chat.ui.page import build_chat_blocks
from gradio_portal.chat.ui.state import NOT_FOUND, SIDEBAR_LIMIT, parse_conversation_id

__all__ = ["CHAT_CSS", "NOT_FOUND", "SIDEBAR_LIMIT", "build_chat_blocks", "parse_conversation_id"]
