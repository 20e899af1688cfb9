"""The documented API clients (docs/api-clients.md), run as a user runs them.

``docs/examples/token_client.py`` (``gradio_client``) and ``docs/examples/node/token_client.mjs``
(``@gradio/client`` from npm, on Node.js) call a mounted app with a personal access token:
streaming updates and a file output come back as the token's user.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import httpx
import pytest
from tests.conftest import REQUIRE_SERVICES

from gradio_portal import Context, Portal
from gradio_portal.testing import LiveServer

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
NODE_EXAMPLE = EXAMPLES / "node" / "token_client.mjs"


def count(n: float, ctx: Context) -> Iterator[str]:
    for i in range(1, int(n) + 1):
        yield f"{ctx.user.username} {i}"


def report(title: str, ctx: Context) -> str:
    path = Path(os.environ.get("GRADIO_TEMP_DIR", "/tmp")) / f"{ctx.user.username}-report.txt"
    path.write_text(f"{title} by {ctx.user.username}\n")
    return str(path)


@pytest.fixture
def server(portal: Portal, serve: Callable[[Any], LiveServer]) -> LiveServer:
    with gr.Blocks() as demo:
        n, title, out, file = gr.Number(), gr.Textbox(), gr.Textbox(), gr.File()
        gr.Button("count").click(count, n, out, api_name="count")
        gr.Button("report").click(report, title, file, api_name="report")
    portal.mount(demo, "/app")
    return serve(portal.app)


def run(command: list[str], token: str) -> list[Any]:
    done = subprocess.run(
        command,
        env={**os.environ, "GRADIO_PORTAL_TOKEN": token},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith(("[", '"'))]


def test_the_python_example_streams_and_downloads(portal: Portal, server: LiveServer) -> None:
    token, _ = portal.tokens.create("alice", label="python example")
    script = [sys.executable, str(EXAMPLES / "token_client.py"), server.url + "/app/"]
    assert run([*script, "/count", "[3]"], token) == ["alice 1", "alice 2", "alice 3"]
    (downloaded,) = run([*script, "/report", '["Q3"]'], token)
    assert Path(downloaded).read_text() == "Q3 by alice\n"


def _node() -> str:
    node = shutil.which("node")
    installed = (NODE_EXAMPLE.parent / "node_modules" / "@gradio" / "client").is_dir()
    if node and installed:
        return node
    reason = (
        "Node.js with docs/examples/node's packages is needed "
        "(scripts/install-system-deps runs `npm ci` there)"
    )
    if REQUIRE_SERVICES:
        pytest.fail(reason)
    pytest.skip(reason)


def test_the_node_example_streams_and_downloads(portal: Portal, server: LiveServer) -> None:
    node = _node()
    token, _ = portal.tokens.create("bob", label="node example")
    script = [node, str(NODE_EXAMPLE), server.url + "/app/"]
    updates = run([*script, "/count", "[3]"], token)
    # Each update as it streams (the completion repeats the last one).
    distinct = [u for i, u in enumerate(updates) if i == 0 or u != updates[i - 1]]
    assert distinct == [["bob 1"], ["bob 2"], ["bob 3"]]
    file = run([*script, "/report", '["Q4"]'], token)[-1][0]
    # @gradio/client hands back the file's URL on the server; the token fetches it.
    answer = httpx.get(file["url"], headers={"authorization": f"Bearer {token}"}, timeout=30)
    assert answer.status_code == 200 and answer.text == "Q4 by bob\n"
    # Without the token, the same URL is refused.
    assert httpx.get(file["url"], timeout=30).status_code == 401
