"""gradio-portal's pytest plugin as a user meets it: pytest run in a directory of its own.

The plugin comes from the installed package's entry point, not from this suite's conftest:
each run here is a separate ``python -m pytest`` in ``tmp_path``, with no configuration.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gradio_portal.testing.browser import CHROMIUM

PASSWORD = "the right password"
PROBE = f"""
import gradio as gr
import pytest

from gradio_portal import Portal, PortalSettings


@pytest.fixture
def server(tmp_path, portal_server):
    portal = Portal(settings=PortalSettings(data_dir=tmp_path))
    portal.accounts.create("ada", {PASSWORD!r})
    with gr.Blocks() as demo:
        gr.Markdown("Hello")
    portal.mount(demo, "/app")
    return portal_server(portal)


def test_client_with_a_wrong_password(server, signed_in_client):
    signed_in_client(server, "ada", "a wrong password")


def test_browser_with_a_wrong_password(server, signed_in_page):
    signed_in_page(server, "ada", "a wrong password")


def test_browser_signed_in(server, signed_in_page):
    assert signed_in_page(server, "ada", {PASSWORD!r}, next="/app/").url == server.url + "/app/"
"""


def run_pytest(
    directory: Path, *args: str, without_playwright: bool = False
) -> subprocess.CompletedProcess[str]:
    """``pytest ARGS`` in ``directory``; ``without_playwright``: as if it were not installed."""
    hide = "sys.modules['playwright'] = None; " if without_playwright else ""
    code = f"import sys; {hide}import pytest; raise SystemExit(pytest.main(sys.argv[1:]))"
    env = {k: v for k, v in os.environ.items() if k != "GRADIO_PORTAL_REQUIRE_SERVICES"}
    return subprocess.run(
        [sys.executable, "-c", code, "-p", "no:cacheprovider", "-rs", *args],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
    )


@pytest.fixture
def probe(tmp_path: Path) -> Path:
    (tmp_path / "test_probe.py").write_text(PROBE)
    return tmp_path


def test_a_refused_sign_in_fails_the_test_with_the_portals_answer(probe: Path) -> None:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"SKIPPED LOUDLY: no Chromium at {CHROMIUM} (scripts/install-system-deps)")
    run = run_pytest(probe, "test_probe.py")
    output = run.stdout + run.stderr
    assert "2 failed, 1 passed" in output, output[-3000:]
    # Both the client and the browser say why, in the portal's words.
    assert output.count("ada could not sign in: 401 Invalid username or password.") >= 2, output


def test_without_playwright_a_browser_test_is_skipped_saying_what_to_install(
    probe: Path,
) -> None:
    run = run_pytest(probe, "test_probe.py", "-k", "browser", without_playwright=True)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-3000:]
    assert "2 skipped" in output, output[-3000:]
    assert "Playwright is not installed: pip install playwright" in output
