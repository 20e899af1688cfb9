"""Test helpers for apps behind gradio-portal, shared by its own tests, benchmarks and yours.

The pytest plugin (:mod:`gradio_portal.testing.plugin`, registered when the package is
installed) builds fixtures from these: ``portal_server``, ``portal_client``,
``signed_in_client``, ``gradio_events``, ``portal_browser`` and ``signed_in_page``. See
docs/testing.md.

- :class:`LiveServer`: run an ASGI app with uvicorn in a thread, on a port the kernel picks.
- :func:`login`, :func:`async_login`, :func:`browser_login`: sign in through the real login
  form (CSRF included), with an ``httpx.Client``, an ``httpx.AsyncClient`` or a Playwright
  page; :func:`logout`, :func:`async_logout`; :func:`csrf_token` reads any form's token.
- :class:`GradioEvents`: call a mounted Blocks' events over Gradio's browser protocol
  (``queue/join`` + the ``queue/data`` event stream), keeping every message;
  :class:`AsyncGradioEvents`: the same for asyncio, light enough to play hundreds of users.
- :class:`TcpProxy`: a loopback proxy to cut and restore, to simulate a database outage.
- :mod:`gradio_portal.testing.cluster`: N portal processes behind nginx, for scale tests.
"""

from __future__ import annotations

from gradio_portal.testing._protocol import event_ids, new_session_hash
from gradio_portal.testing.async_events import AsyncGradioEvents, StreamResult
from gradio_portal.testing.browser import browser_login
from gradio_portal.testing.events import EventResult, GradioEvents
from gradio_portal.testing.server import LiveServer
from gradio_portal.testing.signin import async_login, async_logout, csrf_token, login, logout
from gradio_portal.testing.tcpproxy import TcpProxy

__all__ = [
    "AsyncGradioEvents",
    "EventResult",
    "GradioEvents",
    "LiveServer",
    "StreamResult",
    "TcpProxy",
    "async_login",
    "async_logout",
    "browser_login",
    "csrf_token",
    "event_ids",
    "login",
    "logout",
    "new_session_hash",
]
