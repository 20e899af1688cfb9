"""Testing helpers for users of gradio-portal (and for its own tests).

- :class:`LiveServer`: run an ASGI app with uvicorn in a thread, on a port the kernel picks.
- :func:`login`: sign an ``httpx.Client`` in through the real login form (CSRF included).
- :class:`GradioEvents`: call a mounted Blocks' events over Gradio's raw browser protocol
  (``queue/join`` + the ``queue/data`` event stream), as the browser does.
"""

from __future__ import annotations

from gradio_portal.testing.client import EventResult, GradioEvents, login
from gradio_portal.testing.server import LiveServer

__all__ = ["EventResult", "GradioEvents", "LiveServer", "login"]
