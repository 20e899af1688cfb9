"""``mount_chat``: the reference multi-user chat app, assembled and mounted on a portal."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import gradio as gr

from gradio_portal import Portal, PortalSettings
from gradio_portal.chat.admin_page import build_chat_admin_router
from gradio_portal.chat.api import build_chat_router
from gradio_portal.chat.api.deps import ApiAuth
from gradio_portal.chat.api.shares import build_shares_router
from gradio_portal.chat.attachments import AttachmentStore
from gradio_portal.chat.backends import ChatBackend, build_backend
from gradio_portal.chat.repository import ConversationRepository
from gradio_portal.chat.service import ChatService
from gradio_portal.chat.shared_page import build_shared_page_router
from gradio_portal.chat.sharing import ShareLinks
from gradio_portal.chat.ui import CHAT_CSS, build_chat_blocks

__all__ = ["backend_from_settings", "include_chat_api", "mount_chat"]

_API_INCLUDED = "gradio_portal_chat_api"


def backend_from_settings(settings: PortalSettings) -> ChatBackend:
    """The backend that ``GRADIO_PORTAL_CHAT_BACKEND`` and its options describe."""
    if settings.chat_backend == "openai":
        key = settings.openai_api_key
        return build_backend(
            "openai",
            base_url=settings.openai_base_url,
            model=settings.openai_model,
            api_key=key.get_secret_value() if key is not None else None,
        )
    return build_backend(
        "echo",
        tokens_per_second=settings.chat_echo_tokens_per_second,
        reply_tokens=settings.chat_echo_reply_tokens,
    )


def mount_chat(
    portal: Portal, path: str = "/chat", *, backend: ChatBackend | None = None
) -> gr.Blocks:
    """Mount the multi-user chat at ``path`` behind login, with its JSON API.

    Conversations are stored in the portal's database, one list per user; each has its own
    URL (``/chat/?c=<id>``). The backend comes from the ``chat_*``/``openai_*`` settings unless
    given. Gradio's limits are raised to ``settings.chat_concurrency_limit`` simultaneous
    events (``default_concurrency_limit`` and ``max_threads``, which also caps running events).

    Example::

        portal = Portal()
        mount_chat(portal)              # the chat at /chat/, its API at /api/conversations
        app = portal.app
    """
    settings = portal.settings
    chosen = backend if backend is not None else backend_from_settings(settings)
    service = ChatService.from_settings(
        ConversationRepository(portal.database),
        chosen,
        settings,
        metrics=portal.metrics,
        attachments=AttachmentStore.from_settings(portal.database, settings),
    )
    blocks = build_chat_blocks(
        service, path=path, login_path=settings.login_path, shares=ShareLinks(portal.database)
    )
    limit = settings.chat_concurrency_limit
    # max_threads sizes the queue's active-job slots: without it 40 events run at once at most.
    blocks.max_threads = max(blocks.max_threads, limit)
    blocks.queue(default_concurrency_limit=limit, max_size=None, status_update_rate=1.0)
    portal.mount(blocks, path, css=CHAT_CSS, footer_links=["settings"])
    include_chat_api(portal, service)
    portal.app.include_router(build_chat_admin_router(portal.auth, service))
    if backend is None:
        _close_on_shutdown(portal, chosen)
    return blocks


def include_chat_api(portal: Portal, service: ChatService) -> None:
    """Add the ``/api/conversations`` routes, and the ``/shared/<token>`` page of share links,
    to ``portal.app`` (once per application)."""
    if getattr(portal.app.state, _API_INCLUDED, False):
        return
    portal.app.include_router(build_chat_router(service, login_path=portal.settings.login_path))
    _include_share_links(portal)
    setattr(portal.app.state, _API_INCLUDED, True)


def _include_share_links(portal: Portal) -> None:
    """``/api/conversations/{id}/share`` and the ``/shared/<token>`` page they link to."""
    login_path = portal.settings.login_path
    links = ShareLinks(portal.database)
    portal.app.include_router(build_shares_router(links, ApiAuth(login_path), events=portal.events))
    portal.app.include_router(build_shared_page_router(links, portal.pages, login_path=login_path))


def _close_on_shutdown(portal: Portal, backend: ChatBackend) -> None:
    """Close a backend the chat created itself (its HTTP connections) when the app stops."""
    aclose = getattr(backend, "aclose", None)
    if aclose is None:
        return
    previous = portal.app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[Any]:
        async with previous(app) as state:
            try:
                yield state
            finally:
                await aclose()

    portal.app.router.lifespan_context = lifespan
