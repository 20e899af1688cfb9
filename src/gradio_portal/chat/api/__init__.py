"""The chat's JSON API under ``/api/conversations``: one router per concern, one set of checks.

- :mod:`.deps`: who is asking (``401`` without a session) and the same-site rule for changes;
- :mod:`.schemas`: the JSON shapes;
- :mod:`.conversations`: list, read, export, delete;
- :mod:`.turns`: send messages and get replies (JSON, or server-sent events), regenerate, edit;
- :mod:`.options`: a conversation's title, model and system prompt; ratings; models; usage;
- :mod:`.shares`: read-only share links (included by ``include_chat_api``, with their page).
"""

from __future__ import annotations

from fastapi import APIRouter

from gradio_portal.chat.api.attachments import build_attachments_router
from gradio_portal.chat.api.conversations import build_conversations_router
from gradio_portal.chat.api.deps import API_PREFIX, CSRF_HEADER, ApiAuth
from gradio_portal.chat.api.options import build_options_router
from gradio_portal.chat.api.schemas import (
    ConversationDetail,
    ConversationList,
    ConversationOut,
    MessageOut,
)
from gradio_portal.chat.api.turns import build_turns_router
from gradio_portal.chat.service import ChatService

__all__ = [
    "API_PREFIX",
    "CSRF_HEADER",
    "ConversationDetail",
    "ConversationList",
    "ConversationOut",
    "MessageOut",
    "build_chat_router",
]


def build_chat_router(service: ChatService, *, login_path: str = "/login") -> APIRouter:
    """Every chat API route, answering from ``service`` for the session's user.

    ``login_path`` is named in the ``401`` answer to a request without a session.
    """
    auth = ApiAuth(login_path)
    router = APIRouter()
    router.include_router(build_conversations_router(service, auth))
    router.include_router(build_attachments_router(service.attachments, auth))
    router.include_router(build_turns_router(service, auth))
    router.include_router(build_options_router(service, auth))
    return router
