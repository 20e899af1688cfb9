"""Fixtures for the security tests: a portal with users of every kind, served for real."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr
import httpx
import pytest
from tests.conftest import PASSWORD

from gradio_portal import Portal
from gradio_portal.testing import LiveServer, login

MOUNT = "/app"
ADMIN = "root"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def read_file(file: str | None) -> str:
    """An event that hands a file's contents back: what an attacker would want to reach."""
    return Path(file).read_text() if file else ""


def build_files_app() -> gr.Blocks:
    with gr.Blocks() as demo:
        text = gr.Textbox()
        out = gr.Textbox()
        gr.Button().click(lambda value: value.upper(), text, out, api_name="shout")
        upload = gr.File(type="filepath")
        gr.Button().click(read_file, upload, out, api_name="read_file")
    return demo


def csrf_token(page: httpx.Response) -> str:
    match = _CSRF.search(page.text)
    assert match is not None, f"no CSRF token on {page.url} ({page.status_code})"
    return match.group(1)


def session_cookie(client: httpx.Client) -> str:
    return client.cookies["gradio_portal_session"]


@pytest.fixture
def secured(portal: Portal, serve: Callable[[Any], LiveServer]) -> LiveServer:
    """The ``portal`` fixture (alice, bob) plus an administrator, with an app mounted."""
    portal.users.create(ADMIN, PASSWORD, display_name="Root", roles=("admin",))
    portal.mount(build_files_app(), MOUNT)
    return serve(portal.app)


@pytest.fixture
def signed_in(
    secured: LiveServer, client_for: Callable[[LiveServer], httpx.Client]
) -> Callable[..., httpx.Client]:
    """``signed_in("alice")``: a new client, signed in through the login form."""

    def sign_in(username: str, *, user_agent: str | None = None) -> httpx.Client:
        client = client_for(secured)
        if user_agent is not None:
            client.headers["user-agent"] = user_agent
        response = login(client, username, PASSWORD)
        assert response.status_code == 303, response.text[:300]
        return client

    return sign_in
