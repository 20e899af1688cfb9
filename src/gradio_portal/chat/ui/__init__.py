"""The chat page: a user's conversations in a sidebar (with search), the open one, streamed
replies, stop, regenerate and edit, ratings, model and instructions, attachments, share links.

:func:`build_chat_blocks` (in :mod:`.page`) assembles it from four parts: :mod:`.layout`
(the components and their arrangement, and the CSS), :mod:`.handlers` (the event functions of
a turn and of navigation), :mod:`.features` (those of the tools around a conversation) and
:mod:`.state` (what a page keeps between events, and the ids that arrive from its URL).
"""

from __future__ import annotations

from gradio_portal.chat.ui.layout import CHAT_CSS
from gradio_portal.chat.ui.page import build_chat_blocks
from gradio_portal.chat.ui.state import NOT_FOUND, SIDEBAR_LIMIT, parse_conversation_id

__all__ = ["CHAT_CSS", "NOT_FOUND", "SIDEBAR_LIMIT", "build_chat_blocks", "parse_conversation_id"]
