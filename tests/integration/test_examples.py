"""Every example under docs/examples runs, as the docs say, against a real server."""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from tests.conftest import PASSWORD, REQUIRE_SERVICES

from gradio_portal import Portal, PortalSettings
from gradio_portal.testing import GradioEvents, LiveServer
from gradio_portal.testing.browser import CHROMIUM

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


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


def with_alice(portal: Portal) -> Portal:
    if portal.accounts.get("alice") is None:
        portal.accounts.create("alice", PASSWORD)
    return portal


def test_mount_interface(
    example: Callable[[str], ModuleType],
    serve: Callable[[Any], LiveServer],
    signed_in_client: Callable[..., httpx.Client],
) -> None:
    module = example("mount_interface")
    server = serve(module.app)
    anonymous = httpx.get(server.url + "/gradio/", headers={"accept": "text/html"})
    assert anonymous.status_code == 303
    assert httpx.get(server.url + "/api/hello").json() == {"hello": "world"}
    with_alice(module.portal)
    client = signed_in_client(server, "alice", PASSWORD)
    assert GradioEvents(client, "/gradio").call("greet", ["Ada"]).output == ["Hello, Ada!"]


def test_user_info(
    example: Callable[[str], ModuleType],
    serve: Callable[[Any], LiveServer],
    signed_in_client: Callable[..., httpx.Client],
    tmp_path: Path,
) -> None:
    module = example("user_info")
    portal = with_alice(portal_for(module, "/app", tmp_path))
    client = signed_in_client(serve(portal.app), "alice", PASSWORD)
    events = GradioEvents(client, "/app")
    assert events.call("get_user_info", []).output == ["Welcome, alice!"]
    assert events.call("get_user_info_typed", []).output == ["Welcome, alice!"]


def test_logout_button_is_a_link_to_the_confirmation(
    example: Callable[[str], ModuleType],
    serve: Callable[[Any], LiveServer],
    signed_in_client: Callable[..., httpx.Client],
    tmp_path: Path,
) -> None:
    module = example("logout_button")
    portal = with_alice(portal_for(module, "/app", tmp_path))
    client = signed_in_client(serve(portal.app), "alice", PASSWORD)
    config = client.get("/app/config").json()
    button = next(c for c in config["components"] if c["props"].get("elem_id") == "logout")
    assert button["props"]["link"] == "/logout"
    confirm = client.get(button["props"]["link"])
    assert confirm.status_code == 200 and 'action="/logout"' in confirm.text


def test_js_redirect_keeps_its_javascript(
    example: Callable[[str], ModuleType],
    serve: Callable[[Any], LiveServer],
    signed_in_client: Callable[..., httpx.Client],
    tmp_path: Path,
) -> None:
    module = example("js_redirect")
    portal = with_alice(portal_for(module, "/gradio", tmp_path))
    client = signed_in_client(serve(portal.app), "alice", PASSWORD)
    config = client.get("/gradio/config").json()
    assert any(
        "window.location.href = '/gradio/?page=other'" in (d.get("js") or "")
        for d in config["dependencies"]
    )


def test_the_testing_guide_shows_the_example_file() -> None:
    guide = (EXAMPLES.parent / "testing.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", guide, re.S)
    assert len(blocks) >= 4
    example = (EXAMPLES / "test_my_app.py").read_text()
    assert [block for block in blocks if block not in example] == []


def test_the_testing_example_passes_in_a_project_of_its_own(tmp_path: Path) -> None:
    # docs/testing.md's example, run as its reader would: pytest in a directory with no
    # configuration, the fixtures coming from the installed plugin.
    shutil.copy(EXAMPLES / "test_my_app.py", tmp_path)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs", "test_my_app.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=280,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-3000:]
    browser = os.access(CHROMIUM, os.X_OK) or REQUIRE_SERVICES
    assert ("3 passed" if browser else "2 passed, 1 skipped") in output, output[-3000:]
