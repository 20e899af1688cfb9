"""Testing your own app with gradio-portal's pytest plugin (docs/testing.md walks through it).

Run: ``pytest test_my_app.py``. The fixtures (``portal_server``, ``portal_client``,
``signed_in_client``, ``gradio_events``, ``signed_in_page``) come with gradio-portal; the
browser test needs Playwright and a Chromium, and is skipped, saying what to install, without.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import gradio as gr
import httpx
import pytest

from gradio_portal import Context, Portal, PortalSettings
from gradio_portal.testing import GradioEvents, LiveServer

if TYPE_CHECKING:
    from playwright.sync_api import Page

PASSWORD = "a password only the tests know"


# -- the app under test (in your project: imported from your own module) ----------------------


def greet(name: str, ctx: Context) -> str:
    return f"Hello {name}, from {ctx.user.display_name}!"


def build_demo() -> gr.Blocks:
    with gr.Blocks() as demo:
        name = gr.Textbox(label="Name", elem_id="name")
        greeting = gr.Textbox(label="Greeting", elem_id="greeting")
        gr.Button("Greet", elem_id="greet").click(greet, name, greeting, api_name="greet")
    return demo


# -- the tests --------------------------------------------------------------------------------


@pytest.fixture
def server(tmp_path: Path, portal_server: Callable[..., LiveServer]) -> LiveServer:
    """The app behind a portal of its own (a SQLite file in tmp_path), served for real."""
    portal = Portal(settings=PortalSettings(data_dir=tmp_path))
    portal.accounts.create("ada", PASSWORD, display_name="Ada Lovelace")
    portal.mount(build_demo(), "/app")
    return portal_server(portal)


def test_visitors_are_sent_to_sign_in(
    server: LiveServer, portal_client: Callable[..., httpx.Client]
) -> None:
    answer = portal_client(server).get("/app/", headers={"accept": "text/html"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/app/"


def test_an_event_knows_who_called_it(
    server: LiveServer,
    signed_in_client: Callable[..., httpx.Client],
    gradio_events: Callable[..., GradioEvents],
) -> None:
    client = signed_in_client(server, "ada", PASSWORD)
    events = gradio_events(client, "/app")
    assert events.call("greet", ["Bob"]).output == ["Hello Bob, from Ada Lovelace!"]


def test_the_page_greets_in_a_browser(
    server: LiveServer, signed_in_page: Callable[..., Page]
) -> None:
    from playwright.sync_api import expect  # here: without Playwright, the fixture skips first

    page = signed_in_page(server, "ada", PASSWORD, next="/app/")
    page.fill("#name textarea", "Bob")
    page.click("#greet")
    expect(page.locator("#greeting textarea")).to_have_value("Hello Bob, from Ada Lovelace!")
