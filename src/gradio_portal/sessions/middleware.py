"""ASGI middleware that resolves the session cookie once per request."""

from __future__ import annotations

import logging

import anyio
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from gradio_portal._errors import SessionStoreError
from gradio_portal.sessions.cookies import Cookies
from gradio_portal.sessions.manager import ActiveSession, SessionManager
from gradio_portal.sessions.session import AnonymousSession

__all__ = ["SCOPE_KEY", "SessionMiddleware", "active_session"]

SCOPE_KEY = "gradio_portal.session"
log = logging.getLogger("gradio_portal.sessions")


def active_session(connection: HTTPConnection | Scope) -> ActiveSession | None:
    """The validated session of a request, or None for an anonymous one."""
    scope = connection.scope if isinstance(connection, HTTPConnection) else connection
    value = scope.get(SCOPE_KEY)
    return value if isinstance(value, ActiveSession) else None


class SessionMiddleware:
    """Puts the request's session in ``scope["session"]`` and :data:`SCOPE_KEY`.

    ``scope["session"]`` is what Starlette's ``request.session`` reads, so existing code such
    as ``request.request.session.get("username")`` inside a Gradio callback sees the portal's
    session. Store calls run in worker threads (bounded by their own limiter) so a slow
    database never blocks the event loop.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        manager: SessionManager,
        cookies: Cookies,
        unavailable: ASGIApp,
        max_store_threads: int = 32,
    ) -> None:
        self.app = app
        self.manager = manager
        self.cookies = cookies
        self.unavailable = unavailable
        self._limiter = anyio.CapacityLimiter(max_store_threads)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        token = self.cookies.session_token(Headers(scope=scope))
        active = self.manager.cached(token)
        if token and active is None:
            try:
                active = await anyio.to_thread.run_sync(
                    self.manager.load, token, limiter=self._limiter
                )
            except SessionStoreError as exc:
                log.warning("session store unavailable: %s", exc)
                await self.unavailable(scope, receive, send)
                return
        scope[SCOPE_KEY] = active
        scope["session"] = active.session if active is not None else AnonymousSession()
        await self.app(scope, receive, send)
