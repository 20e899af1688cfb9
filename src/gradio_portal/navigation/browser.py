"""The browser half of "navigation decided in Python".

Gradio cannot redirect the browser from a handler. The portal turns a :class:`Redirect` into
``gr.Error(navigate_error_message(url, replace))``: Gradio delivers an error message on every
kind of event (click, load, mid-stream in a generator, ``ChatInterface``), even with
``show_error=False``. The script returned by :func:`head_snippet`, given to
``gr.mount_gradio_app(..., head=...)``, wraps ``window.fetch`` in the page, recognises
:data:`MARKER` in Gradio's event stream and in ``/run/`` error answers, navigates, and drops
the message so that no error toast shows. It also

* sends the browser to ``<login_url>?next=<page>`` when any ``gradio_api/`` call answers 401;
* adds the header :data:`PAGE_HEADER` (path and query of the page) to every ``gradio_api/`` call;
* refuses targets that are not ``http``/``https`` on the page's origin or an allowed origin,
  and shows :data:`REFUSED_MESSAGE` instead.

API clients (``gradio_client``, raw HTTP) see the marker message as an ordinary error.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
from collections.abc import Sequence
from importlib.resources import files

__all__ = [
    "MARKER",
    "PAGE_HEADER",
    "REFUSED_MESSAGE",
    "head_snippet",
    "navigate_error_message",
    "portal_script",
    "script_hashes",
]

MARKER = "gradio-portal:navigate:"
"""Prefix of a Gradio error message that the browser script turns into navigation."""

PAGE_HEADER = "X-Gradio-Portal-Page"
"""Request header carrying ``location.pathname + location.search`` of the calling page."""

REFUSED_MESSAGE = "Refused to navigate to an unsafe address"
"""What the page shows instead of navigating to a target it does not allow."""

# An inline script element (no src=) of a head snippet, and its text.
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc\s*=)[^>]*>(.*?)</script\s*>", re.S | re.I)

# Characters that must not appear raw in an inline <script>: "<" could open "</script" or
# "<!--", and U+2028/U+2029 end lines in old JavaScript engines ("ensure_ascii" escapes them).
_SCRIPT_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}


def navigate_error_message(url: str, replace: bool) -> str:
    """The ``gr.Error`` message that makes the page open ``url``.

    >>> navigate_error_message("/chat/c/42", False)
    'gradio-portal:navigate:{"url": "/chat/c/42", "replace": false}'
    """
    if not isinstance(url, str):
        raise TypeError(f"url must be a string, got {type(url).__name__}")
    return MARKER + json.dumps({"url": url, "replace": bool(replace)})


def script_json(value: object) -> str:
    """``value`` as JSON that is safe to place inside an inline ``<script>``."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    for char, escaped in _SCRIPT_ESCAPES.items():
        text = text.replace(char, escaped)
    return text


@functools.cache
def portal_script() -> str:
    """The source of ``static/portal.js``."""
    source = (files("gradio_portal.navigation") / "static" / "portal.js").read_text("utf-8")
    lowered = source.lower()
    # The script is inlined: these sequences would end it early or confuse the HTML parser.
    for forbidden in ("</script", "<!--", "<script"):
        if forbidden in lowered:
            raise RuntimeError(f"portal.js must not contain {forbidden!r}")
    return source


def head_snippet(login_url: str = "/login", allowed_origins: Sequence[str] = ()) -> str:
    """The ``<script>`` tags to pass as ``head=`` to ``gr.mount_gradio_app``.

    ``login_url`` is where a 401 from the Gradio API sends the browser (``next=`` is added).
    ``allowed_origins`` lists other origins (``"https://docs.example.com"``) that
    redirects may open; the page's own origin is always allowed.
    """
    if not isinstance(login_url, str):
        raise TypeError(f"login_url must be a string, got {type(login_url).__name__}")
    if isinstance(allowed_origins, str):
        raise TypeError("allowed_origins must be a sequence of origins, not a single string")
    origins = [str(origin) for origin in allowed_origins]
    config = {"loginUrl": login_url, "allowedOrigins": origins, "marker": MARKER}
    return (
        f"<script>window.__gradioPortal = {script_json(config)};</script>\n"
        f"<script>\n{portal_script()}</script>\n"
    )


def script_hashes(head: str) -> list[str]:
    """CSP sources (``'sha256-...'``) allowing the inline scripts of ``head``.

    Gradio does not write ``head=`` into the page's HTML: it ships it inside its config and
    the frontend re-creates each ``<script>`` with the same text. A Content-Security-Policy
    computed from the HTML alone therefore blocks them; add these sources to ``script-src``.
    """
    hashes = []
    for body in _INLINE_SCRIPT.findall(head.replace("\r\n", "\n").replace("\r", "\n")):
        digest = hashlib.sha256(body.encode("utf-8")).digest()
        source = "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"
        if source not in hashes:
            hashes.append(source)
    return hashes
