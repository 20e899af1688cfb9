"""The gradio-portal command: serve with first-run setup, and user management."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import textwrap
import time
import unicodedata
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from gradio_portal import ConfigurationError, PortalSettings
from gradio_portal.storage.migrate import head_revision
from gradio_portal.testing import login
from gradio_portal.testing.ports import consecutive_free_ports

PASSWORD = "a long enough password"


def run_cli(
    env: dict[str, str], *args: str, stdin: str = "", cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gradio_portal", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "GRADIO_PORTAL_DATA_DIR": str(tmp_path / "data")}


@pytest.fixture
def served(env: dict[str, str]) -> Iterator[tuple[str, list[str]]]:
    port = consecutive_free_ports(1)  # below the ephemeral range: no self-connect
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
    assert re.search(r"1  admin\s+Admin\s+yes\s+active\s+set\s+admin", listing.stdout)


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


def test_version_prints_the_installed_version(env: dict[str, str]) -> None:
    result = run_cli(env, "--version")
    assert result.returncode == 0
    assert result.stdout == f"gradio-portal {version('gradio-portal')}\n"


def test_users_list_is_an_aligned_table(env: dict[str, str]) -> None:
    for name, extra in [
        ("al", ["--admin"]),
        ("bartholomew.longname", ["--display-name", "Bart"]),
        ("cy", ["--display-name", "Cy \u5149 Wide"]),  # a wide character takes two columns
    ]:
        created = run_cli(env, "users", "add", name, *extra, "--password-stdin", stdin=PASSWORD)
        assert created.returncode == 0, created.stderr
    assert run_cli(env, "users", "disable", "cy").returncode == 0
    header, *rows = run_cli(env, "users", "list").stdout.splitlines()
    assert header.split("  ")[0:2] == ["ID", "NAME"]
    assert re.match(
        r"ID  NAME\s+DISPLAY NAME\s+ADMIN\s+STATUS\s+PASSWORD\s+ROLES\s+GROUPS$", header
    )
    assert [row.split()[1] for row in rows] == ["al", "bartholomew.longname", "cy"]
    # Every column starts where its heading does (the wide character counted twice).
    for heading in ("NAME", "DISPLAY NAME", "ADMIN", "STATUS", "PASSWORD", "ROLES", "GROUPS"):
        start = header.index(heading)
        for row in rows:
            assert _from_column(row, start - 1)[:2] not in ("", " "), (heading, row)
            assert _from_column(row, start - 1)[0] == " ", (heading, row)
    assert "yes" in rows[0] and "admin" in rows[0]
    assert "no " in rows[1] and rows[1].endswith("-")
    assert "disabled" in rows[2] and "active" in rows[0]


def _from_column(row: str, column: int) -> str:
    """The text of ``row`` from display column ``column`` on (a wide character takes two)."""
    width = 0
    for index, char in enumerate(row):
        if width >= column:
            return row[index:]
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return ""


def test_users_list_without_users_says_how_to_add_one(env: dict[str, str]) -> None:
    result = run_cli(env, "users", "list")
    assert result.returncode == 0 and "users add NAME --admin" in result.stdout


def test_db_upgrade_and_downgrade_say_what_they_do(env: dict[str, str], tmp_path: Path) -> None:
    database = (tmp_path / "data" / "portal.db").resolve()
    head = head_revision()
    upgraded = run_cli(env, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    before, after = upgraded.stdout.splitlines()
    assert before.startswith(
        f"Upgrading database sqlite:///{database} from revision none (no schema) to {head} ("
    )
    assert before.endswith(f"{head})...")
    assert after == f"Database sqlite:///{database} is now at revision {head}."
    again = run_cli(env, "db", "upgrade")
    assert again.stdout.splitlines() == [
        f"Database sqlite:///{database} is at the latest revision, {head}: nothing to do."
    ]
    down = run_cli(env, "db", "downgrade")
    assert down.returncode == 0, down.stderr
    before, after = down.stdout.splitlines()
    assert before == (
        f"Downgrading database sqlite:///{database} from revision {head} to one revision down..."
    )
    now = re.fullmatch(
        rf"Database sqlite:///{re.escape(str(database))} is now at revision (\w+)\.", after
    )
    assert now is not None and now.group(1) != head, after


def test_db_upgrade_masks_the_password_in_the_url(env: dict[str, str], postgres_url: str) -> None:
    from gradio_portal.testing.cluster import fresh_postgres_database

    with fresh_postgres_database(postgres_url) as url:
        # The server trusts loopback, so any password gets in: the point is what is printed.
        with_password = make_url(url).set(password="s3cret-pw")
        shown = with_password.render_as_string(hide_password=True)
        assert "s3cret-pw" not in shown
        secret = {**env, "GRADIO_PORTAL_DATABASE_URL": with_password.render_as_string(False)}
        upgraded = run_cli(secret, "db", "upgrade")
        assert upgraded.returncode == 0, upgraded.stderr
        assert f"Upgrading database {shown} from revision" in upgraded.stdout
        assert f"Database {shown} is now at revision {head_revision()}." in upgraded.stdout
        assert "s3cret-pw" not in upgraded.stdout + upgraded.stderr


def test_reload_refuses_several_processes(env: dict[str, str]) -> None:
    result = run_cli(env, "serve", "--reload", "--processes", "2")
    assert result.returncode == 2
    assert "--reload" in result.stderr and "--processes 2" in result.stderr


_RELOADABLE = """
from fastapi import FastAPI

app = FastAPI()


@app.get("/version")
def served_version() -> dict[str, int]:
    return {{"version": {number}}}
"""


def test_serve_reload_serves_the_changed_code(env: dict[str, str], tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    module = project / "reloadable_app.py"
    module.write_text(textwrap.dedent(_RELOADABLE.format(number=1)), encoding="utf-8")
    port = consecutive_free_ports(1)  # below the ephemeral range: no self-connect
    command = ["serve", "reloadable_app:app", "--reload", "--port", str(port)]
    process = subprocess.Popen(
        [sys.executable, "-m", "gradio_portal", *command],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # the reloader's child is ended with it
    )
    url = f"http://127.0.0.1:{port}/version"

    def served(number: int) -> bool:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(url).json() == {"version": number}:
                    return True
            except (httpx.TransportError, ValueError):
                pass
            time.sleep(0.3)
        return False

    try:
        assert served(1)
        module.write_text(textwrap.dedent(_RELOADABLE.format(number=2)), encoding="utf-8")
        assert served(2)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert "restarting whenever a .py file under" in output
    assert output.count("gradio-portal: serving on") >= 2, output
