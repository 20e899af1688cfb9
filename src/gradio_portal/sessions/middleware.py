"""ASGI middleware that resolves the session cookie once per request."""

from __future__ import annotations

import functools
import logging

import anyio
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from gradio_portal._errors import SessionStoreError
from gradio_portal.sessions.bearer import BearerSessions, bearer_token
from gradio_portal.sessions.cookies import Cookies
from gradio_portal.sessions.manager import ActiveSession, SessionManager
from gradio_portal.sessions.session import AnonymousSession

__all__ = ["SCOPE_KEY", "SessionMiddleware", "active_session", "by_access_token"]

SCOPE_KEY = "gradio_portal.session"
_BY_TOKEN = "gradio_portal.by_access_token"
log = logging.getLogger("gradio_portal.sessions")


def by_access_token(connection: HTTPConnection | Scope) -> bool:
    """True when the request signed in with an access token and carries no session cookie:
    a script, which no other site can make a browser send (no CSRF check needed)."""
    scope = connection.scope if isinstance(connection, HTTPConnection) else connection
    return scope.get(_BY_TOKEN) is True


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
        bearer: BearerSessions | None = None,
        refused_token: ASGIApp | None = None,
        max_store_threads: int = 32,
    ) -> None:
        self.app = app
        self.manager = manager
        self.cookies = cookies
        self.unavailable = unavailable
        self.bearer = bearer
        self.refused_token = refused_token
        self._limiter = anyio.CapacityLimiter(max_store_threads)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        token = self.cookies.session_token(headers)
        access_token = None if token else bearer_token(headers.get("authorization"))
        if token:
            active = self.manager.cached(token)
        elif access_token and self.bearer is not None:
            active = self.bearer.cached(access_token)
        else:
            active = None
        try:
            if token and active is None:
                active = await anyio.to_thread.run_sync(
                    self.manager.load, token, limiter=self._limiter
                )
            elif access_token and self.bearer is not None and active is None:
                client = scope.get("client")
                active = await anyio.to_thread.run_sync(
                    functools.partial(
                        self.bearer.load, access_token, address=client[0] if client else ""
                    ),
                    limiter=self._limiter,
                )
                if active is None and self.refused_token is not None:
                    await self.refused_token(scope, receive, send)
                    return
        except SessionStoreError as exc:
            log.warning("session store unavailable: %s", exc)
            await self.unavailable(scope, receive, send)
            return
        scope[SCOPE_KEY] = active
        scope[_BY_TOKEN] = active is not None and access_token is not None
        scope["session"] = active.session if active is not None else AnonymousSession()
        await self.app(scope, receive, send)
