"""``gradio-portal serve MODULE:app`` serves a FastAPI application, its Gradio mounts guarded;
one it cannot guard stops the server with the fix named."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from gradio_portal.testing.ports import consecutive_free_ports


def test_serve_guards_the_gradio_mounts_of_a_fastapi_app(tmp_path: Path) -> None:
    port = consecutive_free_ports(1)  # below the ephemeral range: no self-connect
    env = {**os.environ, "GRADIO_PORTAL_DATA_DIR": str(tmp_path / "data")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gradio_portal",
            "serve",
            "docs.examples.origin_note:app",
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(base + "/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "the server stopped"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        assert httpx.get(base + "/gradio/config").status_code == 401
        assert httpx.get(base + "/greeter/config").status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_serve_stops_on_an_app_it_cannot_guard(tmp_path: Path) -> None:
    env = {**os.environ, "GRADIO_PORTAL_DATA_DIR": str(tmp_path / "data")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "gradio_portal",
            "serve",
            "tests.support.origin_as_written:app",
            "--port",
            str(consecutive_free_ports(1)),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode != 0
    assert "Remove `app.add_middleware(SessionMiddleware, ...)`" in result.stdout + result.stderr
