"""The gradio-portal command: serve with first-run setup, and user management."""

from __future__ import annotations

import os
import re
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gradio_portal import ConfigurationError, PortalSettings
from gradio_portal.testing import login

PASSWORD = "a long enough password"


def run_cli(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gradio_portal", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "GRADIO_PORTAL_DATA_DIR": str(tmp_path / "data")}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(env: dict[str, str]) -> Iterator[tuple[str, list[str]]]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gradio_portal", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines: list[str] = []
    assert process.stdout is not None
    deadline = time.monotonic() + 90
    base = f"http://127.0.0.1:{port}"
    try:
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            if "/setup?token=" in line:
                break
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield base, lines
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_serve_prints_a_one_time_setup_link_that_creates_the_admin(
    served: tuple[str, list[str]], env: dict[str, str]
) -> None:
    base, lines = served
    link = next(
        re.search(r"(http://\S+/setup\?token=\S+)", line) for line in lines if "setup?" in line
    )
    assert link is not None
    url = link.group(1)
    with httpx.Client(base_url=base) as client:
        form = client.get(url)
        assert form.status_code == 200 and "Create the administrator" in form.text
        token = url.split("token=")[1]
        created = client.post(
            "/setup",
            data={"token": token, "username": "Admin", "password": PASSWORD, "confirm": PASSWORD},
        )
        assert created.status_code == 303
        home = client.get(created.headers["location"], follow_redirects=True)
        assert home.status_code == 200
        # The link is one-time.
        assert client.get(url).status_code == 404
    listing = run_cli(env, "users", "list")
    assert re.search(r"admin\s+Admin\s+active\s+admin", listing.stdout)


def test_user_management_commands(env: dict[str, str], tmp_path: Path) -> None:
    assert (
        run_cli(env, "users", "add", "Carol", "--password-stdin", stdin=PASSWORD + "\n").returncode
        == 0
    )
    duplicate = run_cli(env, "users", "add", "carol", "--password-stdin", stdin=PASSWORD + "\n")
    assert duplicate.returncode == 1 and "already exists" in duplicate.stderr
    short = run_cli(env, "users", "add", "dan", "--password-stdin", stdin="short\n")
    assert short.returncode == 1 and "at least 8 characters" in short.stderr

    from gradio_portal import Portal
    from gradio_portal.testing import LiveServer

    portal = Portal(settings=PortalSettings(data_dir=tmp_path / "data"))
    with LiveServer(portal.app) as server, httpx.Client(base_url=server.url) as client:
        assert login(client, "carol", PASSWORD).status_code == 303
        assert client.get("/logout").status_code == 200
        changed = run_cli(
            env, "users", "set-password", "carol", "--password-stdin", stdin="another password\n"
        )
        assert "ended 1 session" in changed.stdout
        assert client.get("/logout").status_code == 303  # signed out: back to /login
        assert login(client, "carol", "another password").status_code == 303
        disabled = run_cli(env, "users", "disable", "carol")
        assert "ended 1 session" in disabled.stdout
        assert login(client, "carol", "another password").status_code == 401
    missing = run_cli(env, "users", "disable", "nobody")
    assert missing.returncode == 1 and "users list" in missing.stderr


def test_production_without_a_secret_key_stops_with_instructions(tmp_path: Path) -> None:
    settings = PortalSettings(environment="production", data_dir=tmp_path)
    with pytest.raises(
        ConfigurationError, match=r"GRADIO_PORTAL_SECRET_KEY is not set.*token_urlsafe"
    ):
        settings.resolve_secret_key()


def test_development_generates_a_private_secret_and_keeps_it(tmp_path: Path) -> None:
    settings = PortalSettings(data_dir=tmp_path)
    first = settings.resolve_secret_key()
    assert first == settings.resolve_secret_key()
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode == 0o600


def test_serve_refuses_a_target_that_is_not_blocks(env: dict[str, str]) -> None:
    result = run_cli(env, "serve", "os:path")
    assert result.returncode == 1
    assert "not a gr.Blocks" in result.stderr


def test_link_sso_needs_an_issuer_then_links(env: dict[str, str]) -> None:
    assert (
        run_cli(env, "users", "add", "erin", "--password-stdin", stdin=PASSWORD + "\n").returncode
        == 0
    )
    missing = run_cli(env, "users", "link-sso", "erin", "sub-123")
    assert missing.returncode == 1 and "GRADIO_PORTAL_OIDC_ISSUER" in missing.stderr
    issuer = {**env, "GRADIO_PORTAL_OIDC_ISSUER": "http://127.0.0.1:9/"}
    linked = run_cli(issuer, "users", "link-sso", "erin", "sub-123")
    assert linked.returncode == 0, linked.stderr
    assert "sub-123" in linked.stdout
