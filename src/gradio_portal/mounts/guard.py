"""The guard: no request under a mounted Gradio app reaches it without a session.

Gradio's own ``auth_dependency`` leaves several routes open (heartbeat, cancel, reset,
stream, startup-events, user, theme). Rather than chase Gradio's route list, the guard
denies everything under a mount path except an explicit list of static assets.
"""

from __future__ import annotations

import logging

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gradio_portal._errors import GET_A_TOKEN
from gradio_portal.compat.routes import is_static
from gradio_portal.mounts.answers import send_answer, send_json
from gradio_portal.mounts.paths import MountPaths
from gradio_portal.navigation.urls import login_url, path_with_query
from gradio_portal.sessions.middleware import active_session

__all__ = ["MountGuard"]

log = logging.getLogger("gradio_portal")


class MountGuard:
    """ASGI middleware: answers anonymous requests under the mount paths itself.

    A browser asking for a page gets ``303`` to the login page with ``next=`` set to the page;
    anything else gets ``401`` with a JSON body saying how to sign in. A signed-in user outside
    the groups an app is open to gets ``no_access`` (a readable 403: never a sign-in loop).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        mount_paths: MountPaths,
        login_path: str,
        no_access: ASGIApp,
    ) -> None:
        self.app = app
        self.mount_paths = mount_paths
        self.login_path = login_path
        self.no_access = no_access

    def protected_mount(self, path: str) -> str | None:
        """The mount whose guard ``path`` passes through; None outside mounts and for assets."""
        mount = self.mount_paths.mount_of(path)
        return mount if mount is not None and not is_static(path[len(mount) :]) else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        mount = (
            self.protected_mount(scope["path"]) if scope["type"] in ("http", "websocket") else None
        )
        if mount is None:
            await self.app(scope, receive, send)
            return
        active = active_session(scope)
        if active is not None:
            if not self.mount_paths.open_to(mount, active.user):
                if scope["type"] == "http":
                    await self.no_access(scope, receive, send)
                else:
                    await send({"type": "websocket.close", "code": 1008, "reason": "no access"})
                return
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
            await send_answer(
                send,
                303,
                b"",
                [(b"location", login_url(page, login_path=self.login_path).encode())],
            )
            return
        await send_json(
            send,
            401,
            f"Not signed in, or the session ended: sign in at {self.login_path} and retry. "
            + GET_A_TOKEN,
            headers=[(b"www-authenticate", b'Bearer realm="gradio-portal"')],
        )


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
