"""The command for who may open what: users' groups, access tokens, the audit trail, and
``serve --group``. Commands run through the command's own entry point (``main``, in this
process, for speed; one of them as a real subprocess) on a real SQLite file; a portal served on
the same database checks that what the command did works over HTTP."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import httpx
import pytest

from gradio_portal import ConfigurationError, Portal, PortalSettings
from gradio_portal.cli import _parser, build_portal, main
from gradio_portal.testing import LiveServer

PASSWORD = "a long enough password"


@dataclass
class Ran:
    stdout: str


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def env(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("GRADIO_PORTAL_DATA_DIR", str(data_dir))
    return {**os.environ, "GRADIO_PORTAL_DATA_DIR": str(data_dir)}


@pytest.fixture
def run_cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Ran]:
    def run(env: dict[str, str], *args: str, stdin: str = "") -> Ran:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        assert code == 0, err
        return Ran(out)

    return run


@pytest.fixture
def served(data_dir: Path) -> Iterator[LiveServer]:
    # No cache: what the command changes in the database applies to the next request.
    portal = Portal(settings=PortalSettings(data_dir=data_dir, session_cache_ttl=0))
    portal.mount(gr.Interface(lambda x: x, "textbox", "textbox"), "/app", groups=["analysts"])
    with LiveServer(portal.app) as server:
        yield server


def test_users_get_groups_on_creation_and_later(
    env: dict[str, str], run_cli: Callable[..., Ran]
) -> None:
    made = run_cli(
        env,
        "users",
        "add",
        "ann",
        "--group",
        "Analysts",
        "--group",
        "ops",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert "member of analysts, ops" in made.stdout
    assert run_cli(env, "users", "groups", "ann").stdout.strip() == "analysts, ops"
    changed = run_cli(env, "users", "groups", "ann", "--add", "finance", "--remove", "ops")
    assert "now in analysts, finance" in changed.stdout and "ended 0 session(s)" in changed.stdout
    assert "already" in run_cli(env, "users", "groups", "ann", "analysts", "finance").stdout
    run_cli(env, "users", "groups", "ann", "--none")
    listed = run_cli(env, "users", "list").stdout.splitlines()
    assert listed[0].split()[-1] == "GROUPS" and listed[1].split()[-1] == "-"


def test_a_token_from_the_command_opens_the_app_until_revoked(
    env: dict[str, str], served: LiveServer, run_cli: Callable[..., Ran]
) -> None:
    run_cli(
        env, "users", "add", "ann", "--group", "analysts", "--password-stdin", stdin=PASSWORD + "\n"
    )
    # As a script runs it: a real process, the token alone on its last line.
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "gradio_portal",
            "tokens",
            "create",
            "ann",
            "--label",
            "nightly",
            "--expires-days",
            "30",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    token = made.stdout.splitlines()[-1]
    assert token.startswith("gpp_") and "nightly" in made.stdout
    bearer = {"authorization": f"Bearer {token}"}
    assert httpx.get(served.url + "/app/config", headers=bearer, timeout=30).status_code == 200
    listed = run_cli(env, "tokens", "list", "ann").stdout.splitlines()
    assert listed[0].split()[:3] == ["ID", "USER", "LABEL"]
    assert "nightly" in listed[1] and "active" in listed[1] and token not in "\n".join(listed)
    token_id = listed[1].split()[0]
    assert "revoked token" in run_cli(env, "tokens", "revoke", token_id).stdout
    refused = httpx.get(served.url + "/app/config", headers=bearer, timeout=30)
    assert refused.status_code == 401
    assert "revoked" in run_cli(env, "tokens", "list").stdout
    # Leaving the group also shuts the app to a new token.
    run_cli(env, "users", "groups", "ann", "--none")
    second = run_cli(env, "tokens", "create", "ann").stdout.splitlines()[-1]
    answer = httpx.get(
        served.url + "/app/config", headers={"authorization": f"Bearer {second}"}, timeout=30
    )
    assert answer.status_code == 403


def test_audit_prints_the_trail_one_line_per_event(
    env: dict[str, str], served: LiveServer, run_cli: Callable[..., Ran]
) -> None:
    run_cli(env, "users", "add", "ann", "--password-stdin", stdin=PASSWORD + "\n")
    with httpx.Client(base_url=served.url, timeout=30) as browser:
        page = browser.get("/login")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        browser.post("/login", data={"username": "ann", "password": "wrong", "csrf_token": token})
    run_cli(env, "tokens", "create", "ann")
    lines = run_cli(env, "audit").stdout.splitlines()
    assert [line.split()[2] for line in lines] == [
        "admin.user_created",
        "sign_in.failed",
        "token.created",
    ]
    failed = next(line for line in lines if "sign_in.failed" in line)
    assert "'ann'" in failed and "127.0.0.1" in failed and "wrong" not in failed
    only = run_cli(env, "audit", "--event", "token.created", "--limit", "5").stdout.splitlines()
    assert len(only) == 1 and "target='ann'" in only[0]
    assert run_cli(env, "audit", "--user", "nobody").stdout.strip() == "no events"


def test_serve_group_opens_the_target_to_its_members_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    args = _parser().parse_args(["serve", "m:demo", "--group", "a", "--group", "b"])
    assert args.groups == ["a", "b"]
    monkeypatch.setenv("GRADIO_PORTAL_DATA_DIR", str(tmp_path / "data"))
    module = tmp_path / "served_app.py"
    module.write_text(
        "import gradio as gr\nfrom fastapi import FastAPI\n"
        "demo = gr.Interface(lambda x: x, 'textbox', 'textbox')\napi = FastAPI()\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    portal = build_portal("served_app:demo", path="/tools", groups=["Finance"])
    assert portal.mount_paths.groups("/tools") == frozenset({"finance"})
    chat = build_portal(None, groups=["support"])
    assert chat.mount_paths.groups("/chat") == frozenset({"support"})
    with pytest.raises(ConfigurationError, match=r"portal\.restrict"):
        build_portal("served_app:api", groups=["finance"])
