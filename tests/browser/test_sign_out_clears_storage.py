"""Nothing of a user's work stays in the browser after signing out, in Chromium.

Gradio keeps run history and ``gr.BrowserState`` in ``localStorage``, where they would outlive
the session. Every sign-out answer carries ``Clear-Site-Data``; a sign-out that happens inside a
Gradio event (``logout_button``) has no answer of its own, so the portal's browser script clears
the storage when it takes the page to the sign-in page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr
import pytest
from playwright.sync_api import Page, expect
from tests.conftest import PASSWORD

from gradio_portal import Portal, logout_button
from gradio_portal.testing import LiveServer

MOUNT = "/app"


@pytest.fixture
def server(portal: Portal, serve: Callable[[Any], LiveServer]) -> LiveServer:
    with gr.Blocks() as demo:
        gr.Markdown("Signed in", elem_id="signed-in")
        logout_button("Sign out now", elem_id="sign-out-now")
    portal.mount(demo, MOUNT)
    return serve(portal.app)


def _remember_work(page: Page) -> None:
    page.evaluate(
        "() => { localStorage.setItem('gradio:run-history:v2:app:user:alice', 'my chat');"
        " sessionStorage.setItem('draft', 'half a message'); }"
    )
    assert page.evaluate("() => localStorage.length + sessionStorage.length") == 2


def test_the_sign_out_button_inside_the_app_clears_storage(
    server: LiveServer, signed_in_page: Callable[..., Page]
) -> None:
    page = signed_in_page(server, "alice", PASSWORD, next=MOUNT + "/")
    page.wait_for_url("**/app/")
    expect(page.locator("#signed-in")).to_be_visible()
    _remember_work(page)
    page.locator("#sign-out-now").click()
    page.wait_for_url("**/login**")
    page.wait_for_load_state("load")
    assert page.evaluate("() => localStorage.length + sessionStorage.length") == 0


def test_the_portals_sign_out_page_clears_storage(
    server: LiveServer, signed_in_page: Callable[..., Page]
) -> None:
    page = signed_in_page(server, "alice", PASSWORD, next=MOUNT + "/")
    page.wait_for_url("**/app/")
    expect(page.locator("#signed-in")).to_be_visible()
    _remember_work(page)
    page.goto(server.url + "/logout")
    page.get_by_role("button", name="Sign out").first.click()
    page.wait_for_url("**/login**")
    page.wait_for_load_state("load")
    assert page.evaluate("() => localStorage.length") == 0
