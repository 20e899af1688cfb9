"""Log lines that carry no secrets: what the portal removes from the server's access log.

uvicorn's access log prints every request's path and query. Under a mounted Gradio app those
name a page's Gradio session (``queue/data?session_hash=...``, ``heartbeat/<hash>``), an
event (``call/<api>/<event_id>``), an upload (``upload?upload_id=...``, ``file=<path>``) and
whatever an app puts in its own query; the chat's share links (``/shared/<token>``) name the
token that reads a conversation. :class:`RedactingFilter` replaces every query value and
those path parts with ``…`` before the line is written; method, route and status stay.

Other log lines may quote a path too (a warning about a request): :func:`redact_text` removes
the same path parts, and the values of query parameters that name a session, an upload or a
secret, from any text. ``serve``'s log handler applies it to every line
(gradio_portal.observability.logs).
"""

from __future__ import annotations

import logging
import re

__all__ = ["RedactingFilter", "install_access_log_filter", "redact_target", "redact_text"]

REDACTED = "…"

_QUERY_VALUE = re.compile(r"=([^&#]*)")
_PATH_SECRETS = (
    re.compile(r"(/gradio_api/heartbeat/)[^/?#]+"),
    re.compile(r"(/gradio_api/stream/)[^/?#]+"),
    re.compile(r"(/gradio_api/call/(?:v2/)?[^/?#]+/)[^/?#]+"),
    # uvicorn quotes the path it logs: "file=" arrives as "file%3D".
    re.compile(r"(/gradio_api/file(?:=|/|%3[Dd]))[^?#]*"),
    # The chat's share links: /shared/<token> reads a conversation.
    re.compile(r"(/shared/)[^/?#]+"),
)
# In free text a value ends at whitespace or a quote as well.
_TEXT_PATH_SECRETS = tuple(
    re.compile(p.pattern.replace("[^/?#]", "[^/?#\\s'\"]").replace("[^?#]", "[^?#\\s'\"]"))
    for p in _PATH_SECRETS
)
_SECRET_VALUES = re.compile(
    r"((?<![A-Za-z0-9_])(?:session_hash|upload_id|event_id|token|password)=)[^&#\s'\"]+"
)


def redact_target(target: str) -> str:
    """``target`` (path and query of a request) with identifying parts replaced by ``…``."""
    path, question, query = target.partition("?")
    for pattern in _PATH_SECRETS:
        path = pattern.sub(lambda m: m.group(1) + REDACTED, path)
    if question:
        query = _QUERY_VALUE.sub("=" + REDACTED, query)
    return path + question + query


def redact_text(text: str) -> str:
    """``text`` (any log message) without session hashes, event ids, file paths and secrets
    that paths and query strings in it carry."""
    if "gradio_api/" in text or "/shared/" in text:
        for pattern in _TEXT_PATH_SECRETS:
            text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    if "=" in text:
        text = _SECRET_VALUES.sub(lambda m: m.group(1) + REDACTED, text)
    return text


class RedactingFilter(logging.Filter):
    """A filter for the ``uvicorn.access`` logger (its record's third argument is the target)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_target(args[2]), *args[3:])
        return True


def install_access_log_filter() -> None:
    """Add :class:`RedactingFilter` to uvicorn's access logger (once per process)."""
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
