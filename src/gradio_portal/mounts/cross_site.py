"""Cross-site request forgery protection for the mounted Gradio apps.

Gradio's endpoints (``queue/join``, ``upload``, ``call/*``...) take no CSRF token, and the
session cookie rides along with any request the browser makes. SameSite=Lax already keeps
it off cross-site POSTs; this middleware does not rely on that alone (same-site subdomains,
old browsers). Under a mount path, a request that can change state (anything but GET, HEAD
and OPTIONS) is refused when:

- its ``Origin`` is another origin, or ``null`` (sandboxed frames, ``data:`` pages) → 403;
- ``Sec-Fetch-Site: cross-site`` says the browser sent it from another site → 403;
- its content type is one an HTML form or a "simple" cross-origin ``fetch`` can send without
  a CORS preflight — ``text/plain``, ``application/x-www-form-urlencoded``, or multipart
  outside the upload route → 415. Gradio's own client sends JSON (and multipart to
  ``gradio_api/upload``), which no cross-site page can send without a preflight, and
  preflights are never answered with permission (the portal allows no CORS origin). The one
  other multipart request it makes, ``gr.ImageEditor``'s layers to ``component_server``, is
  refused on purpose (docs/security.md, "Design decisions and their limits").

Requests without ``Origin`` (scripts, API clients) are judged by the session alone: they are
not a browser being tricked.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from gradio_portal.auth.csrf import same_origin
from gradio_portal.compat.routes import UPLOAD
from gradio_portal.mounts.answers import send_json
from gradio_portal.mounts.paths import MountPaths

__all__ = ["CrossSiteGuard"]

_SAFE_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))
_FORM_TYPES = frozenset(("text/plain", "application/x-www-form-urlencoded"))


class CrossSiteGuard:
    def __init__(self, app: ASGIApp, *, mount_paths: MountPaths) -> None:
        self.app = app
        self.mount_paths = mount_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        relative = self.mount_paths.relative(scope["path"])
        if relative is None:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if not same_origin(headers) or headers.get("sec-fetch-site") == "cross-site":
            await send_json(send, 403, "Cross-site requests are not accepted here.")
            return
        media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media_type in _FORM_TYPES or (
            # Gradio reads any type that starts so as multipart (component_server).
            media_type.startswith("multipart/form-data") and relative.rstrip("/") != UPLOAD
        ):
            await send_json(
                send, 415, f"Send JSON (application/json), not {media_type or 'this type'}."
            )
            return
        await self.app(scope, receive, send)
