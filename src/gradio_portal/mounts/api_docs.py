"""Gradio's "Use via API" page, behind the portal: its snippets say how a script signs in.

The page shows code that Gradio writes into ``gradio_api/info`` for each endpoint: Python
(``gradio_client``), JavaScript (``@gradio/client``) and curl. As written, each one calls the
app anonymously, which the portal answers with 401. This middleware rewrites them to send a
personal access token, read from the ``GRADIO_PORTAL_TOKEN`` environment variable, and to say
where to create one (the account page, or ``gradio-portal tokens create``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gradio_portal.compat.routes import API_INFO
from gradio_portal.mounts.answers import hold_response
from gradio_portal.mounts.paths import MountPaths

__all__ = ["TOKEN_VARIABLE", "ApiDocs", "with_token"]

TOKEN_VARIABLE = "GRADIO_PORTAL_TOKEN"
_WHERE = (
    "a personal access token: create one at /account/tokens "
    "or with `gradio-portal tokens create USERNAME`"
)

_PYTHON_CLIENT = re.compile(r'(Client\("[^"\n]*")\)')
_JS_CLIENT = re.compile(r'(Client\.connect\("[^"\n]*")\)')
_CURL = re.compile(r"\bcurl ")


def with_token(snippets: dict[str, Any]) -> dict[str, Any]:
    """An endpoint's ``code_snippets`` rewritten to authenticate with an access token."""
    fixed = dict(snippets)
    python = snippets.get("python")
    if isinstance(python, str) and _PYTHON_CLIENT.search(python):
        body = _PYTHON_CLIENT.sub(
            rf'\1, headers={{"Authorization": "Bearer " + os.environ["{TOKEN_VARIABLE}"]}})',
            python,
            count=1,
        )
        fixed["python"] = f"# {TOKEN_VARIABLE}: {_WHERE}\nimport os\n" + body
    javascript = snippets.get("javascript")
    if isinstance(javascript, str) and _JS_CLIENT.search(javascript):
        body = _JS_CLIENT.sub(
            r"\1, {\n\theaders: { Authorization: `Bearer ${process.env."
            + TOKEN_VARIABLE
            + r"}` },\n})",
            javascript,
            count=1,
        )
        fixed["javascript"] = f"// {TOKEN_VARIABLE}: {_WHERE}\n" + body
    bash = snippets.get("bash")
    if isinstance(bash, str) and "curl " in bash:
        body = _CURL.sub(f'curl -H "Authorization: Bearer ${TOKEN_VARIABLE}" ', bash)
        fixed["bash"] = f"# {TOKEN_VARIABLE}: {_WHERE}\n" + body
    return fixed


class ApiDocs:
    """ASGI middleware rewriting the snippets of ``<mount>/gradio_api/info`` answers."""

    def __init__(self, app: ASGIApp, *, mount_paths: MountPaths) -> None:
        self.app = app
        self.mount_paths = mount_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        relative = self.mount_paths.relative(scope["path"])
        if relative is None or relative.rstrip("/") != API_INFO:
            await self.app(scope, receive, send)
            return

        # Gradio compresses its answers (Brotli, gzip) when asked: ask for the plain JSON.
        scope = dict(scope)
        scope["headers"] = [(k, v) for k, v in scope["headers"] if k != b"accept-encoding"]

        async def finish(start: Message, body: bytes) -> None:
            if start["status"] == 200:
                body = _rewritten(body)
                MutableHeaders(scope=start)["content-length"] = str(len(body))
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, hold_response(send, finish))


def _rewritten(body: bytes) -> bytes:
    try:
        info = json.loads(body)
    except ValueError:
        return body
    endpoints = info.get("named_endpoints") if isinstance(info, dict) else None
    if not isinstance(endpoints, dict):
        return body
    for endpoint in endpoints.values():
        if isinstance(endpoint, dict) and isinstance(endpoint.get("code_snippets"), dict):
            endpoint["code_snippets"] = with_token(endpoint["code_snippets"])
    return json.dumps(info).encode()
