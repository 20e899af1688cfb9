"""The integration note's own setup (shared/ORIGIN.md) plus ``Portal(app)``.

Gradio apps mounted with ``gr.mount_gradio_app`` are guarded like ``portal.mount``'s, the
note's ``request.request.session.get("username")`` greets the signed-in user, and Starlette's
``SessionMiddleware`` (which would silently replace the portal's session) stops the start with
the fix named. Nothing is silently public, nothing silently different.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import gradio as gr
import httpx
import pytest
from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware
from tests.conftest import PASSWORD
from tests.support.origin import origin_note

from gradio_portal import ConfigurationError, Portal, PortalSettings
from gradio_portal.testing import GradioEvents, LiveServer, login


@pytest.fixture
def note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    with origin_note(tmp_path, monkeypatch) as module:
        yield module


def test_the_notes_mounts_answer_no_anonymous_request(
    note: ModuleType, serve: Callable[[Any], LiveServer]
) -> None:
    server = serve(note.app)
    for path in ("/gradio/config", "/gradio/gradio_api/info", "/greeter/config"):
        assert httpx.get(server.url + path).status_code == 401, path
    page = httpx.get(server.url + "/gradio/", headers={"accept": "text/html"})
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login?next=")


def test_the_notes_callback_greets_the_signed_in_user_by_name(
    note: ModuleType,
    serve: Callable[[Any], LiveServer],
    client_for: Callable[[LiveServer], httpx.Client],
) -> None:
    client = client_for(serve(note.app))
    assert login(client, "alice", PASSWORD).status_code == 303
    greeting = GradioEvents(client, "/greeter").call("get_user_info", []).output
    assert greeting == ["Welcome, alice!"]
    assert GradioEvents(client, "/gradio").call("lambda", ["Ada"]).output == ["Hello, Ada!"]


def _notes_app_as_written(tmp_path: Path, *, middleware_after_portal: bool) -> FastAPI:
    app = FastAPI()
    io = gr.Interface(lambda x: "Hello, " + x + "!", "textbox", "textbox")
    app = gr.mount_gradio_app(app, io, path="/gradio")
    if not middleware_after_portal:
        app.add_middleware(SessionMiddleware, secret_key="a-secret-key-from-the-note")
    Portal(app, settings=PortalSettings(data_dir=tmp_path / "data"))
    if middleware_after_portal:
        app.add_middleware(SessionMiddleware, secret_key="a-secret-key-from-the-note")
    return app


@pytest.mark.parametrize("middleware_after_portal", [False, True])
def test_starlettes_session_middleware_stops_the_start_with_the_fix(
    tmp_path: Path, middleware_after_portal: bool
) -> None:
    app = _notes_app_as_written(tmp_path, middleware_after_portal=middleware_after_portal)
    with pytest.raises(ConfigurationError) as refused:
        app.build_middleware_stack()  # what the server does before its first request
    assert "Remove `app.add_middleware(SessionMiddleware, ...)`" in str(refused.value)
    # Served for real, the server does not start.
    with pytest.raises(RuntimeError, match="did not start"):
        LiveServer(app, lifespan="on").start()


def test_a_gradio_mount_with_its_own_login_stops_the_start(tmp_path: Path) -> None:
    app = FastAPI()
    demo = gr.Interface(lambda x: x, "textbox", "textbox")
    gr.mount_gradio_app(app, demo, path="/own", auth=("admin", "pass"))
    Portal(app, settings=PortalSettings(data_dir=tmp_path / "data"))
    with pytest.raises(ConfigurationError, match="remove auth="):
        app.build_middleware_stack()


def test_an_adopted_mount_tells_the_browser_what_the_portal_decided(
    note: ModuleType,
    serve: Callable[[Any], LiveServer],
    client_for: Callable[[LiveServer], httpx.Client],
) -> None:
    # gr.mount_gradio_app wrote its configuration before the portal took the app over: the
    # page must still learn that run history is off and that uploads have a size limit.
    client = client_for(serve(note.app))
    assert login(client, "alice", PASSWORD).status_code == 303
    config = client.get("/gradio/config").json()
    assert config["run_history"] is False
    assert "runs" not in config["footer_links"]
    assert config["max_file_size"] == 100 * 1024 * 1024
