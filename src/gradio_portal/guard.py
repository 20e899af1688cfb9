"""The guard: no request under a mounted Gradio app reaches it without a session.

Gradio's own ``auth_dependency`` leaves several routes open (heartbeat, cancel, reset,
stream, startup-events, user, theme). Rather than chase Gradio's route list, the guard
denies everything under a mount path except an explicit list of static assets.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gradio_portal.navigation.urls import login_url, path_with_query
from gradio_portal.sessions.middleware import active_session

__all__ = ["STATIC_PREFIXES", "MountGuard", "mount_relative"]

log = logging.getLogger("gradio_portal")

# Relative to a mount path. Code and images of the Gradio frontend, identical for everyone.
STATIC_PREFIXES = (
    "/assets/",
    "/static/",
    "/svelte/",
    "/favicon.ico",
    "/robots.txt",
    "/manifest.json",
    "/pwa_icon",
    "/theme.css",
)


def mount_relative(path: str, mount_paths: Iterable[str]) -> str | None:
    """``path`` relative to the mount it falls under (``""`` for the mount itself), or None."""
    for mount in mount_paths:
        if path == mount or path.startswith(mount + "/"):
            return path[len(mount) :]
    return None


class MountGuard:
    """ASGI middleware: answers anonymous requests under the mount paths itself.

    A browser asking for a page gets ``303`` to the login page with ``next=`` set to the page;
    anything else gets ``401`` with a JSON body saying how to sign in.
    """

    def __init__(self, app: ASGIApp, *, mount_paths: Iterable[str], login_path: str) -> None:
        self.app = app
        self.mount_paths = mount_paths  # a live view: mounts can be added after start-up
        self.login_path = login_path

    def protects(self, path: str) -> bool:
        relative = mount_relative(path, self.mount_paths)
        return relative is not None and not _is_static(relative)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not self.protects(scope["path"]):
            await self.app(scope, receive, send)
            return
        if active_session(scope) is not None:
            if scope["type"] == "http":
                await _serve_signed_in(self.app, scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": "sign in first"})
            return
        headers = Headers(scope=scope)
        if scope["method"] in ("GET", "HEAD") and "text/html" in headers.get("accept", ""):
            page = path_with_query(scope["path"], scope.get("query_string", b"").decode("latin-1"))
            await _send(
                send,
                303,
                b"",
                [(b"location", login_url(page, login_path=self.login_path).encode())],
            )
            return
        body = json.dumps(
            {
                "detail": "Not signed in, or the session ended: "
                f"sign in at {self.login_path} and retry."
            }
        ).encode()
        await _send(send, 401, body, [(b"content-type", b"application/json")])


async def _serve_signed_in(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Pass a signed-in request to the mounted app, with two corrections to its answer.

    - Private pages must not come back from the browser cache (back button after logout):
      every answer is ``Cache-Control: no-store``.
    - Gradio's event stream (``queue/data``) raises "session not found" after it has begun to
      answer, for instance when a page's events live in another process after a failover; it
      has already sent the browser an error message saying so. The response is then ended
      cleanly, instead of the server logging a traceback and cutting the connection.
    """
    started = False

    async def sender(message: Message) -> None:
        nonlocal started
        if message["type"] == "http.response.start":
            started = True
            MutableHeaders(scope=message)["cache-control"] = "no-store"
        await send(message)

    try:
        await app(scope, receive, sender)
    except (HTTPException, RuntimeError) as exc:
        # Starlette's exception middleware turns an HTTPException raised after the response
        # began into "RuntimeError: Caught handled exception, but response already started".
        late = exc if isinstance(exc, HTTPException) else exc.__cause__
        if not started or not isinstance(late, HTTPException):
            raise
        log.info("%s: the response had begun when it ended with %s", scope["path"], late)
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def _is_static(relative: str) -> bool:
    # "/assets/../config" must not count as an asset.
    if ".." in relative or "\\" in relative or "//" in relative:
        return False
    return any(relative.startswith(prefix) for prefix in STATIC_PREFIXES)


async def _send(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    headers = [
        *headers,
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
