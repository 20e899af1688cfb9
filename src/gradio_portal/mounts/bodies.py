"""Request bodies under a mount, read once and parsed exactly as the mounted app will parse them.

FastAPI parses a body as JSON when the request has no content type or an ``application/json``
(or ``+json``) one, with :func:`json.loads` on the raw bytes, which also accepts a UTF-8 byte
order mark, UTF-16 and UTF-32, and leading whitespace. One Gradio route reads its body itself,
as JSON whatever the content type says (``component_server``, see
:func:`gradio_portal.compat.routes.gradio_reads_json`). A check that read the body any other way
could be skipped by an encoding it does not expect while the app still accepts the body. So the
body is parsed here the same way, once, and a body that does not parse is refused (400) before
the app sees it: whatever the app would have done with it, no check was skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import Headers
from starlette.types import Message, Receive, Scope

from gradio_portal.compat.routes import gradio_reads_json

__all__ = ["MAX_BODY", "BodyRefused", "RequestBody", "is_json_request", "read_body", "replay"]

MAX_BODY = 8 * 1024 * 1024
"""A queue/join or call body carries values and file paths, not files (those go to upload)."""

_SCOPE_KEY = "gradio_portal.body"


class BodyRefused(Exception):
    """A body the portal refuses before the app sees it; ``status`` and ``detail`` say why."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass
class RequestBody:
    """The raw bytes of a request body and, when the app will read it as JSON, its value."""

    raw: bytes
    is_json: bool
    value: Any = None


def is_json_request(headers: Headers, relative: str) -> bool:
    """True when the app will parse the body of this request to ``relative`` (a path under a
    mount) as JSON: FastAPI's rule, or Gradio's own where it reads the body itself."""
    content_type = headers.get("content-type")
    by_gradio = gradio_reads_json(relative, content_type)
    if by_gradio is not None:
        return by_gradio
    if not content_type:
        return True
    media_type = content_type.split(";", 1)[0].strip().lower()
    maintype, _, subtype = media_type.partition("/")
    return maintype == "application" and (subtype == "json" or subtype.endswith("+json"))


async def read_body(scope: Scope, receive: Receive, relative: str) -> RequestBody:
    """The body of a request to ``relative`` (a path under a mount), read once per request
    (later calls get the same object).

    Raises :class:`BodyRefused`: 413 over :data:`MAX_BODY`, 400 for JSON that does not parse.
    """
    cached = scope.get(_SCOPE_KEY)
    if isinstance(cached, RequestBody):
        return cached
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise BodyRefused(413, f"Request body too large: at most {MAX_BODY} bytes here.")
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    raw = b"".join(chunks)
    body = RequestBody(
        raw=raw, is_json=bool(raw) and is_json_request(Headers(scope=scope), relative)
    )
    if body.is_json:
        try:
            body.value = json.loads(raw)
        except RecursionError:
            raise BodyRefused(400, "The JSON body is nested too deeply.") from None
        except ValueError as exc:
            raise BodyRefused(400, f"The request body is not valid JSON: {exc}.") from None
    scope[_SCOPE_KEY] = body
    return body


def replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` first, then the connection's own messages."""
    pending = True

    async def replayed() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
