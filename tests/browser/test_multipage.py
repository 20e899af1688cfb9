"""Multipage apps behind the portal: every page Gradio serves renders, in Chromium.

Before, only the mount root got the page's security policy; a ``demo.route`` page (and the run
history page) got the sandboxing policy meant for files, and Chromium showed a blank page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr
import pytest
from playwright.sync_api import ConsoleMessage, Page, expect
from tests.conftest import PASSWORD

from gradio_portal import Context, Portal
from gradio_portal.testing import LiveServer

MOUNT = "/app"


def who(ctx: Context) -> str:
    return f"{ctx.user.display_name} on {ctx.page} with {dict(ctx.query)}"


def build_multipage() -> gr.Blocks:
    with gr.Blocks() as demo:
        gr.Navbar(main_page_name="Home")
        gr.Markdown("# Home page", elem_id="home-title")
        home_out = gr.Textbox(elem_id="home-out")
        gr.Button("Who", elem_id="home-who").click(who, None, home_out)
    with demo.route("Second", "/second"):
        gr.Markdown("# Second page", elem_id="second-title")
        second_out = gr.Textbox(elem_id="second-out")
        gr.Button("Who", elem_id="second-who").click(who, None, second_out)
    return demo


@pytest.fixture
def server(portal: Portal, serve: Callable[[Any], LiveServer]) -> LiveServer:
    portal.mount(build_multipage(), MOUNT)
    return serve(portal.app)


def _collect_errors(page: Page) -> list[str]:
    errors: list[str] = []

    def keep(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", keep)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def test_a_route_page_renders_and_its_events_get_the_context_and_query(
    server: LiveServer, signed_in_page: Callable[..., Page]
) -> None:
    page = signed_in_page(server, "alice", PASSWORD, next=MOUNT + "/second?option=x")
    errors = _collect_errors(page)
    page.wait_for_url("**/app/second?option=x")
    page.wait_for_load_state("load")
    expect(page.locator("#second-title")).to_contain_text("Second page")
    page.locator("#second-who").click()
    expect(page.locator("#second-out textarea")).to_have_value(
        "Alice Liddell on /app/second?option=x with {'option': 'x'}"
    )
    assert not [e for e in errors if "Content Security Policy" in e or "sandbox" in e], errors


def test_the_navbar_leads_from_page_to_page(
    server: LiveServer, signed_in_page: Callable[..., Page]
) -> None:
    page = signed_in_page(server, "alice", PASSWORD, next=MOUNT + "/")
    errors = _collect_errors(page)
    page.wait_for_url("**/app/")
    expect(page.locator("#home-title")).to_contain_text("Home page")
    page.get_by_role("link", name="Second").click()
    page.wait_for_url("**/app/second**")
    expect(page.locator("#second-title")).to_contain_text("Second page")
    page.locator("#second-who").click()
    expect(page.locator("#second-out textarea")).to_have_value(
        "Alice Liddell on /app/second with {}"
    )
    assert not [e for e in errors if "Content Security Policy" in e or "sandbox" in e], errors
