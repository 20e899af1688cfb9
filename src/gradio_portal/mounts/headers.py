"""Security headers for everything served under a mount path (the portal's own pages get
theirs from :mod:`gradio_portal.pages`).

Every HTML page Gradio serves under a mount (the app, its ``demo.route`` pages, the run history
page) gets a Content-Security-Policy without ``'unsafe-inline'`` for scripts: each
inline ``<script>`` of the page (Gradio's config and loader) and of the mount's ``head=``
(which the frontend re-inserts at run time, e.g. the portal's navigation adapter) is allowed
by its SHA-256, computed from the response itself. Injected markup such as
``<img onerror=...>`` inside a ``gr.HTML`` or ``gr.Markdown`` value therefore does not run.
Gradio JSON-escapes ``<`` in the config it inlines, so no value can smuggle in a script
element that would be hashed along. Measured in Chromium with Gradio 6.31, what the page
still needs and why:

- ``'unsafe-eval'``: the frontend compiles code at start-up (``new Function``), and ``js=``
  events and ``js_on_load`` run that way; without it the page stays on "Loading...";
- ``style-src 'unsafe-inline'``: Svelte components set inline styles;
- ``data:``/``blob:`` images and media: previews of uploads and generated media;
- ``base-uri 'self'``: the frontend sets a ``<base>`` to the mount path.

Every other response under a mount (API answers, assets, ``file=`` downloads) gets a
sandboxing policy, so a file opened directly in the browser cannot run script.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gradio_portal.compat.routes import is_page_route
from gradio_portal.mounts.answers import hold_response
from gradio_portal.mounts.paths import MountPaths

__all__ = ["GradioHeaders", "page_policy"]

COMMON = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}
PAGE_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-eval'{hashes}; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "media-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "worker-src 'self' blob:; frame-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'self'; object-src 'none'"
)
OTHER_POLICY = (
    "default-src 'none'; img-src 'self' data: blob:; media-src 'self' data: blob:; "
    "style-src 'self' 'unsafe-inline'; frame-ancestors 'self'; sandbox"
)
# Inline scripts only: a src= script is covered by 'self'.
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\ssrc\s*=)[^>]*>(.*?)</script\s*>", re.S | re.I)
_CONFIG_PREFIX = b"window.gradio_config = "


def page_policy(html: bytes) -> str:
    """The page's CSP: the fixed policy plus one hash per inline script the page will run.

    Those are the inline scripts of ``html`` itself and the ones of the mount's ``head=``,
    which Gradio's frontend re-creates at run time from the config embedded in the page.
    """
    bodies = _INLINE_SCRIPT.findall(html)
    for body in bodies:
        if body.lstrip().startswith(_CONFIG_PREFIX):
            bodies = bodies + _head_scripts(body)
            break
    hashes = sorted({_hash(body) for body in bodies})
    return PAGE_POLICY.format(hashes="".join(" " + h for h in hashes))


def _head_scripts(config_script: bytes) -> list[bytes]:
    try:
        config = json.loads(config_script.strip()[len(_CONFIG_PREFIX) :].strip().rstrip(b";"))
    except ValueError:
        return []
    head = config.get("head") if isinstance(config, dict) else None
    return _INLINE_SCRIPT.findall(head.encode()) if isinstance(head, str) else []


def _hash(body: bytes) -> str:
    # Browsers hash the script text after the HTML parser turned CR LF and CR into LF.
    text = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return "'sha256-" + base64.b64encode(hashlib.sha256(text).digest()).decode() + "'"


class GradioHeaders:
    """ASGI middleware adding the headers above to responses under the mount paths."""

    def __init__(self, app: ASGIApp, *, mount_paths: MountPaths) -> None:
        self.app = app
        self.mount_paths = mount_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        relative = None
        if scope["type"] == "http":
            relative = self.mount_paths.relative(scope["path"])
        if relative is None:
            await self.app(scope, receive, send)
            return
        if scope["method"] in ("GET", "HEAD") and is_page_route(relative):
            await self.app(scope, receive, _page_or_other(send))
        else:
            await self.app(scope, receive, _other(send))


def _apply(message: Message, policy: str, frame_options: str) -> None:
    headers = MutableHeaders(scope=message)
    for name, value in COMMON.items():
        headers[name] = value
    headers["x-frame-options"] = frame_options
    headers["content-security-policy"] = policy


def _other(send: Send) -> Send:
    async def sender(message: Message) -> None:
        if message["type"] == "http.response.start":
            _apply(message, OTHER_POLICY, "SAMEORIGIN")
        await send(message)

    return sender


def _page_or_other(send: Send) -> Send:
    """An HTML page gets the page policy, held (about 20 kB) until its inline scripts are
    hashed; any other answer of a page route (a redirect to the trailing-slash URL, JSON from
    ``/config``, an error) gets the sandboxing one, unheld."""
    held: Send | None = None

    async def finish(start: Message, body: bytes) -> None:
        _apply(start, page_policy(body), "DENY")
        await send(start)
        await send({"type": "http.response.body", "body": body})

    async def sender(message: Message) -> None:
        nonlocal held
        if held is None and message["type"] == "http.response.start":
            content_type = MutableHeaders(scope=message).get("content-type", "")
            if content_type.startswith("text/html"):
                held = hold_response(send, finish)
            else:
                _apply(message, OTHER_POLICY, "DENY")
        await (held or send)(message)

    return sender
