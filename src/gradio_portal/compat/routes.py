"""Gradio's route layout under a mount path, as the portal's middlewares need to know it.

All paths are relative to the mount (``/app/gradio_api/upload`` is ``/gradio_api/upload``).
"""

from __future__ import annotations

import re

__all__ = [
    "API_PREFIX",
    "FILE_ROUTES",
    "STATIC_PREFIXES",
    "UPLOAD",
    "is_page_route",
    "is_static",
]

API_PREFIX = "/gradio_api/"
"""Every API route of a mounted Blocks (queue, upload, files, info) lives below this."""

UPLOAD = "/gradio_api/upload"
API_INFO = "/gradio_api/info"
"""The API description behind the "Use via API" page, with a code snippet per endpoint."""
"""Multipart uploads; answers the list of stored paths."""

FILE_ROUTES = ("/gradio_api/file=", "/gradio_api/file/")
"""Files served from Gradio's cache and upload directory, by path."""

STATIC_PREFIXES = (
    "/assets/",
    "/static/",
    "/svelte/",
    "/favicon.ico",
    "/robots.txt",
    "/manifest.json",
    "/theme.css",
)
"""Code and images of the Gradio frontend, identical for everyone: served without a session."""

PWA_ICONS = ("/pwa_icon", "/pwa_icon/192", "/pwa_icon/512")
"""The app's icon as its web manifest names it (static too). Gradio draws ``/pwa_icon/<n>`` at
any size asked, ``n`` by ``n`` pixels in memory: the portal serves these sizes only."""


RUN_HISTORY_PAGE = "/gradio_api/runs"
"""The run history page: an HTML page like the app's own."""


MCP_LANDING_PAGE = "/gradio_api/mcp"
"""Gradio's MCP endpoint, which answers a browser's GET with a page about the server."""

MCP_SSE = "/gradio_api/mcp/sse"
"""The MCP server's SSE transport: a stream whose first event (``endpoint``) names where the
session's messages are posted, ``.../mcp/messages/?session_id=<id>``."""

MCP_MESSAGES = "/gradio_api/mcp/messages"
"""Where an SSE session's messages are posted (any path below it reaches the same route); the
``session_id`` query parameter names the session, whose stream gets the answers."""


def is_page_route(relative: str) -> bool:
    """True where Gradio serves its own HTML pages: the app, its ``demo.route`` pages, the
    run history page and the MCP server's page for browsers. Never under ``gradio_api/``
    otherwise, where files and answers are."""
    if relative.rstrip("/") in (RUN_HISTORY_PAGE, MCP_LANDING_PAGE):
        return True
    return not relative.startswith(API_PREFIX) and not is_static(relative)


def is_static(relative: str) -> bool:
    """True for a frontend asset (``relative`` to the mount); never for a path with ``..``."""
    # "/assets/../config" must not count as an asset.
    if ".." in relative or "\\" in relative or "//" in relative:
        return False
    return relative.startswith(STATIC_PREFIXES) or relative in PWA_ICONS


def is_unserved_icon(relative: str) -> bool:
    """True for ``/pwa_icon/<size>`` at a size the manifest does not name (never served)."""
    return relative.startswith("/pwa_icon/") and relative not in PWA_ICONS


# -- what a session hash or an event id reaches ---------------------------------------------
# Gradio keys a page's event streams, gr.State, cancel, heartbeat, deep links and media streams
# by the `session_hash` the browser picks, and a started event by its `event_id`; it checks
# neither against the caller. The portal's binding (mounts/gradio_sessions.py) needs to know
# where each one travels.

SESSION_QUERY_PARAMS = ("session_hash", "upload_id")
"""Query parameters that name a page's Gradio session (``queue/data``, ``deep_link``) or one
of its uploads (``upload``, ``upload_progress``)."""

SESSION_BODY_KEY = "session_hash"
"""The JSON body key of ``queue/join``, ``run/*``, ``call/*``, ``cancel``, ``component_server``."""

SESSION_PATH_PREFIXES = ("/gradio_api/heartbeat/", "/gradio_api/stream/")
"""GET routes whose first path segment after the prefix is a session hash."""

EVENT_STARTS = re.compile(r"^/gradio_api/(?:queue/join|call/(?:v2/)?[^/]+)/?$")
"""POST routes that answer ``{"event_id": ...}`` for an event they start."""

EVENT_ROUTES = (
    ("GET", re.compile(r"^/gradio_api/call/(?:v2/)?[^/]+/([^/]+)/?$")),
    ("POST", re.compile(r"^/gradio_api/stream/([^/]+)(?:/close)?/?$")),
)
"""(method, pattern): routes that reach an event by the id in the pattern's group."""

COMPONENT_SERVER = "/gradio_api/component_server"
"""Runs a component's server function in a page's Gradio session (``session_hash`` in the body).
Gradio reads its body itself: as multipart when the ``Content-Type`` header starts with
``multipart/form-data`` (exactly, case and all), and as JSON otherwise, whatever type it names."""


def gradio_reads_json(relative: str, content_type: str | None) -> bool | None:
    """How Gradio itself reads the body of a POST to ``relative``: True as JSON, False as
    multipart, None where it leaves that to FastAPI (every other route).

    The MCP server's transports read every message as JSON-RPC, under their own looser rules
    for the content type (any type starting ``application/json``, or naming it in a list), so
    every body posted under the MCP endpoint counts as JSON."""
    if relative.rstrip("/") == MCP_LANDING_PAGE or relative.startswith(MCP_LANDING_PAGE + "/"):
        return True
    if relative.rstrip("/") != COMPONENT_SERVER:
        return None
    return not (content_type or "").startswith("multipart/form-data")


EVENT_BODY_ROUTES = ("/gradio_api/cancel", "/gradio_api/reset")
"""POST routes whose JSON body names an event by ``event_id`` (cancel closes it by that id)."""

OPERATOR_PREFIXES = (
    "/monitoring",
    "/gradio_api/profiling/",
    "/gradio_api/dev/",
    "/gradio_api/vibe-edit",
    "/gradio_api/undo-vibe-edit",
    "/gradio_api/vibe-code",
    "/gradio_api/vibe-starter-queries",
)
"""Routes for whoever runs the app, not its users: event analytics of every user (monitoring;
profiling, with ``GRADIO_PROFILING=1``, which also lists every event's id and session), reading,
reloading and editing the app's code."""

LOGOUT = "/logout"
"""Gradio's own sign-out route (for its ``auth=`` tokens)."""


def is_operator_route(relative: str) -> bool:
    return relative.startswith(OPERATOR_PREFIXES)
