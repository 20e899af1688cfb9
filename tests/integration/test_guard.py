"""Every route of every mounted Gradio app refuses anonymous requests (static assets aside)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import gradio as gr
import httpx
import pytest
from starlette.routing import BaseRoute, Mount
from tests.conftest import PASSWORD
from tests.integration.apps import build_events_app

from gradio_portal import Portal
from gradio_portal.compat.routes import is_static as public_asset
from gradio_portal.testing import LiveServer, login

MOUNTS = ("/app", "/other")
# Values for path parameters; what matters is reaching the route, not a valid resource.
PARAMETER_VALUES = {"path": "index.html", "session_hash": "abc123", "size": "192", "key": "x"}


def walk(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, set[str]]]:
    """(path, methods) of every route, descending into included routers."""
    for route in routes:
        original = getattr(route, "original_router", None)
        if original is not None:  # FastAPI's include_router()
            yield from walk(original.routes, prefix + route.include_context.prefix)  # type: ignore[attr-defined]
        elif isinstance(route, Mount):
            yield from walk(route.routes, prefix + route.path)
        else:
            methods = set(getattr(route, "methods", None) or {"GET"})
            yield prefix + getattr(route, "path", ""), methods


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: PARAMETER_VALUES.get(m.group(1), "1"), path)


def mounted_routes(portal: Portal) -> list[tuple[str, str]]:
    found = []
    for route in portal.app.routes:
        if isinstance(route, Mount) and route.path in MOUNTS:
            for path, methods in walk(route.routes):
                for method in sorted(methods - {"HEAD", "OPTIONS"}):
                    found.append((method, route.path + concrete(path)))
    return found


def is_static(path: str) -> bool:
    """Whether the guard serves ``path`` (mount included) without a session: its own rule."""
    relative = "/" + path.split("/", 2)[2] if path.count("/") >= 2 else "/"
    return public_asset(relative)


@pytest.fixture
def guarded(portal: Portal, serve: Callable[[Any], LiveServer]) -> tuple[Portal, LiveServer]:
    portal.mount(build_events_app(), "/app")
    with gr.Blocks() as other:
        gr.Markdown("other")
    portal.mount(other, "/other")
    return portal, serve(portal.app)


def test_no_mounted_route_answers_anonymous_requests_with_data(
    guarded: tuple[Portal, LiveServer],
) -> None:
    portal, server = guarded
    routes = mounted_routes(portal)
    paths = {path for _, path in routes}
    # Gradio's routes that its own auth leaves open are in the walk, so the guard covers them.
    for open_by_gradio in ("heartbeat", "cancel", "reset", "stream", "startup-events", "user"):
        assert any(f"/gradio_api/{open_by_gradio}" in p for p in paths), open_by_gradio
    checked = 0
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for method, path in routes:
            if is_static(path):
                continue
            for accept in ("application/json", "text/html"):
                response = client.request(method, path, headers={"accept": accept}, json={})
                if accept == "text/html" and method == "GET":
                    assert response.status_code == 303, (method, path, response.status_code)
                    assert response.headers["location"].startswith("/login?next=")
                else:
                    assert response.status_code == 401, (method, path, response.status_code)
                    assert response.json()["detail"].startswith("Not signed in")
                checked += 1
    assert checked > 60


def test_static_assets_stay_public_and_path_tricks_do_not(
    guarded: tuple[Portal, LiveServer],
) -> None:
    _, server = guarded
    with httpx.Client(base_url=server.url) as client:
        assert client.get("/app/favicon.ico").status_code != 401
        for trick in ("/app/assets/../config", "/app/assets/..%2fconfig", "/app//config"):
            assert client.get(trick).status_code in (401, 404), trick


def test_signed_in_pages_are_not_cached(
    guarded: tuple[Portal, LiveServer], client_for: Callable[[LiveServer], httpx.Client]
) -> None:
    _, server = guarded
    client = client_for(server)
    login(client, "alice", PASSWORD)
    page = client.get("/app/")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"


def test_an_event_stream_for_an_unknown_page_ends_cleanly(
    guarded: tuple[Portal, LiveServer],
    client_for: Callable[[LiveServer], httpx.Client],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # What a page sees when its events live in another process (after a failover): Gradio
    # answers queue/data with "session not found", then raises inside its stream. The browser
    # gets that message and a finished response, not a cut connection.
    _, server = guarded
    client = client_for(server)
    login(client, "alice", PASSWORD)
    with caplog.at_level(logging.INFO):
        response = client.get(
            "/app/gradio_api/queue/data", params={"session_hash": "never-joined-here"}
        )
    assert response.status_code == 200
    assert '"msg":"unexpected_error"' in response.text.replace(" ", "")
    assert '"session_not_found":true' in response.text.replace(" ", "")
    assert "Exception in ASGI application" not in caplog.text
