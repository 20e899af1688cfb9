"""Every example under docs/examples runs, as the docs say, against a real server."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from tests.conftest import PASSWORD

from gradio_portal import Portal, PortalSettings
from gradio_portal.testing import GradioEvents, LiveServer, login


@pytest.fixture
def example(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[str], ModuleType]]:
    monkeypatch.setenv("GRADIO_PORTAL_DATA_DIR", str(tmp_path / "data"))
    loaded: list[str] = []

    def load(name: str) -> ModuleType:
        module_name = f"docs.examples.{name}"
        sys.modules.pop(module_name, None)
        loaded.append(module_name)
        return importlib.import_module(module_name)

    yield load
    for name in loaded:
        sys.modules.pop(name, None)


def portal_for(module: ModuleType, path: str, tmp_path: Path) -> Portal:
    """The portal `gradio-portal serve MODULE:demo --path PATH` would build."""
    portal = Portal(settings=PortalSettings(data_dir=tmp_path / "data"))
    portal.mount(module.demo, path)
    return portal


def signed_in(client: httpx.Client, portal: Portal) -> httpx.Client:
    if portal.users.get("alice") is None:
        portal.users.create("alice", PASSWORD)
    assert login(client, "alice", PASSWORD).status_code == 303
    return client


def test_mount_interface(
    example: Callable[[str], ModuleType],
    serve: Callable[[Any], LiveServer],
    client_for: Callable[[LiveServer], httpx.Client],
) -> None:
    module = example("mount_interface")
    server = serve(module.app)
    anonymous = httpx.get(server.url + "/gradio/", headers={"accept": "text/html"})
    assert anonymous.status_code == 303
    assert httpx.get(server.url + "/api/hello").json() == {"hello": "world"}
    client = signed_in(client_for(server), module.portal)
    assert GradioEvents(client, "/gradio").call("greet", ["Ada"]).output == ["Hello, Ada!"]


def test_user_info(
    example: Callable[[str], ModuleType],
    serve: Callable[[Any], LiveServer],
    client_for: Callable[[LiveServer], httpx.Client],
    tmp_path: Path,
) -> None:
    module = example("user_info")
    portal = portal_for(module, "/app", tmp_path)
    client = signed_in(client_for(serve(portal.app)), portal)
    events = GradioEvents(client, "/app")
    assert events.call("get_user_info", []).output == ["Welcome, alice!"]
    assert events.call("get_user_info_typed", []).output == ["Welcome, alice!"]


def test_logout_button_is_a_link_to_the_confirmation(
    example: Callable[[str], ModuleType],
    serve: Callable[[Any], LiveServer],
    client_for: Callable[[LiveServer], httpx.Client],
    tmp_path: Path,
) -> None:
    module = example("logout_button")
    portal = portal_for(module, "/app", tmp_path)
    client = signed_in(client_for(serve(portal.app)), portal)
    config = client.get("/app/config").json()
    button = next(c for c in config["components"] if c["props"].get("elem_id") == "logout")
    assert button["props"]["link"] == "/logout"
    confirm = client.get(button["props"]["link"])
    assert confirm.status_code == 200 and 'action="/logout"' in confirm.text


def test_js_redirect_keeps_its_javascript(
    example: Callable[[str], ModuleType],
    serve: Callable[[Any], LiveServer],
    client_for: Callable[[LiveServer], httpx.Client],
    tmp_path: Path,
) -> None:
    module = example("js_redirect")
    portal = portal_for(module, "/gradio", tmp_path)
    client = signed_in(client_for(serve(portal.app)), portal)
    config = client.get("/gradio/config").json()
    assert any(
        "window.location.href = '/gradio/?page=other'" in (d.get("js") or "")
        for d in config["dependencies"]
    )
