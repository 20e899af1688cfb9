"""The request id: one per HTTP request, in every log line the request causes.

A request arrives with ``X-Request-ID`` (nginx sets one, see deploy/nginx.conf.template) or
gets a new one; :class:`~gradio_portal.observability.middleware.RequestObserver` keeps it in
:data:`REQUEST_ID` while the request runs and sends it back in the response. A value that is
long or has characters outside letters, digits and ``.-_:`` is replaced, not trusted: the id
lands in log lines, and a client must not be able to write into those at will.
"""

from __future__ import annotations

import random
import re
from contextvars import ContextVar

__all__ = ["HEADER", "MAX_LENGTH", "REQUEST_ID", "accepted_request_id", "new_request_id"]

HEADER = b"x-request-id"
"""The header's name as ASGI gives it (lower case)."""

MAX_LENGTH = 64

REQUEST_ID: ContextVar[str | None] = ContextVar("gradio_portal_request_id", default=None)
"""The id of the request this code runs for, or None outside of one."""

_SAFE = re.compile(rb"[A-Za-z0-9._:-]{1,%d}" % MAX_LENGTH)
# An id names a request in the logs; it opens nothing, so it need not be unguessable. The
# operating system's randomness (uuid4) costs a system call per request, this does not.
_random = random.Random()


def accepted_request_id(value: bytes) -> str | None:
    """``value`` as a request id if it is short and of the safe characters, else None."""
    return value.decode("ascii") if _SAFE.fullmatch(value) else None


def new_request_id() -> str:
    """A fresh id: 32 random hexadecimal digits, like nginx's ``$request_id``."""
    return f"{_random.getrandbits(128):032x}"
