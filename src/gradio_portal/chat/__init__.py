"""Chat: model backends, token coalescing and the multi-user chat app.

``mount_chat(portal)`` puts the reference chat at ``/chat`` (conversations stored per user,
streamed replies, stop, rename, delete, export) and its JSON API at ``/api/conversations``.
"""

from __future__ import annotations

from gradio_portal.chat.app import backend_from_settings, include_chat_api, mount_chat
from gradio_portal.chat.backends import BackendError, ChatBackend, EchoBackend, OpenAIBackend
from gradio_portal.chat.repository import (
    ConversationInfo,
    ConversationPage,
    ConversationRepository,
    StoredMessage,
)
from gradio_portal.chat.service import ChatService, MessageRejected, ReplyUpdate
from gradio_portal.chat.ui import build_chat_blocks

__all__ = [
    "BackendError",
    "ChatBackend",
    "ChatService",
    "ConversationInfo",
    "ConversationPage",
    "ConversationRepository",
    "EchoBackend",
    "MessageRejected",
    "OpenAIBackend",
    "ReplyUpdate",
    "StoredMessage",
    "backend_from_settings",
    "build_chat_blocks",
    "include_chat_api",
    "mount_chat",
]
