"""Fixtures for the security tests: a portal with users of every kind, served for real."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr
import httpx
import pytest
from tests.conftest import PASSWORD

from gradio_portal import Portal
from gradio_portal.testing import LiveServer
from gradio_portal.testing import csrf_token as csrf_token  # the tests here import it from here

MOUNT = "/app"
ADMIN = "root"


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


def session_cookie(client: httpx.Client) -> str:
    return client.cookies["gradio_portal_session"]


@pytest.fixture
def secured(portal: Portal, serve: Callable[[Any], LiveServer]) -> LiveServer:
    """The ``portal`` fixture (alice, bob) plus an administrator, with an app mounted."""
    portal.accounts.create(ADMIN, PASSWORD, display_name="Root", roles=("admin",))
    portal.mount(build_files_app(), MOUNT)
    return serve(portal.app)


@pytest.fixture
def signed_in(
    secured: LiveServer, signed_in_client: Callable[..., httpx.Client]
) -> Callable[..., httpx.Client]:
    """``signed_in("alice")``: a new client, signed in through the login form."""

    def sign_in(username: str, *, user_agent: str | None = None) -> httpx.Client:
        headers = {} if user_agent is None else {"user-agent": user_agent}
        return signed_in_client(secured, username, PASSWORD, headers=headers)

    return sign_in
