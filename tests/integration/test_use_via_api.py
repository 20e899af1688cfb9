"""The "Use via API" snippets of a mounted app work as shown, once a token is set.

Gradio writes the snippets into ``gradio_api/info``; behind the portal they send
``Authorization: Bearer $GRADIO_PORTAL_TOKEN`` and say where to get a token. The Python one is
run as a user would run it: copied into a file, with the variable set.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr
import httpx
import pytest
from tests.conftest import PASSWORD

from gradio_portal import Context, Portal
from gradio_portal.testing import LiveServer, login

MOUNT = "/app"


def shout(text: str, ctx: Context) -> str:
    return f"{text.upper()} says {ctx.user.username}"


@pytest.fixture
def server(portal: Portal, serve: Callable[[Any], LiveServer]) -> LiveServer:
    portal.mount(gr.Interface(shout, "textbox", "textbox", api_name="shout"), MOUNT)
    return serve(portal.app)


def snippets(server: LiveServer) -> dict[str, str]:
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        assert login(browser, "alice", PASSWORD).status_code == 303
        # As the page asks: compressed if the server likes.
        info = browser.get(MOUNT + "/gradio_api/info", headers={"accept-encoding": "br, gzip"})
    assert info.status_code == 200
    return info.json()["named_endpoints"]["/shout"]["code_snippets"]  # type: ignore[no-any-return]


def test_every_snippet_sends_a_token_and_says_where_to_get_one(server: LiveServer) -> None:
    found = snippets(server)
    for language in ("python", "javascript", "bash"):
        assert "GRADIO_PORTAL_TOKEN" in found[language], language
        assert "/account/tokens" in found[language], language
    assert found["bash"].count('-H "Authorization: Bearer $GRADIO_PORTAL_TOKEN"') == 2


def test_the_python_snippet_runs_as_shown(
    portal: Portal, server: LiveServer, tmp_path: Path
) -> None:
    script = tmp_path / "snippet.py"
    script.write_text(snippets(server)["python"])
    token, _ = portal.tokens.create("bob", label="snippet")
    environment = {**os.environ, "GRADIO_PORTAL_TOKEN": token}
    ran = subprocess.run(
        [sys.executable, str(script)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    # The snippet's example input, answered as the token's user.
    assert ran.stdout.strip().splitlines()[-1] == "HELLO!! says bob"
    # Without the variable, the snippet stops with its name, before any request.
    del environment["GRADIO_PORTAL_TOKEN"]
    failed = subprocess.run(
        [sys.executable, str(script)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert failed.returncode != 0 and "GRADIO_PORTAL_TOKEN" in failed.stderr
