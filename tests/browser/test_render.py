"""``@gr.render``: the render function and the events it creates get a Context too.

Those events are built per page, each time the render function runs, so a walk of the Blocks
at mount time never sees them; the portal adapts them as they are made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr
import pytest
from playwright.sync_api import Page, expect
from tests.conftest import PASSWORD

from gradio_portal import Context, Portal, Redirect
from gradio_portal.testing import LiveServer


def _who(row: int) -> Callable[..., str]:
    def who(ctx: Context) -> str:
        clicks = int(ctx.session.get("clicks", 0)) + 1
        ctx.session["clicks"] = clicks  # a write from a rendered event persists
        return f"row {row}: {ctx.user.username}, click {clicks}"

    return who


def leave(ctx: Context) -> Redirect:
    return Redirect(f"/render/?left={ctx.user.username}")


def build_rendered_app() -> gr.Blocks:
    with gr.Blocks() as demo:
        rows = gr.Number(value=2, precision=0, label="Rows", elem_id="rows")

        @gr.render(inputs=rows)
        def show(count: float | None, ctx: Context) -> None:
            gr.Markdown(f"Rendered for {ctx.user.display_name}", elem_id="rendered-for")
            for row in range(int(count or 0)):
                out = gr.Textbox(show_label=False, elem_id=f"out-{row}")
                gr.Button(f"Who {row}", elem_id=f"who-{row}").click(_who(row), None, out)
            gr.Button("Leave", elem_id="leave").click(leave, None, None)

    return demo


@pytest.fixture
def signed_in(
    portal: Portal, serve: Callable[[Any], LiveServer], signed_in_page: Callable[..., Page]
) -> Page:
    portal.mount(build_rendered_app(), "/render")
    page = signed_in_page(serve(portal.app), "alice", PASSWORD, next="/render/")
    page.wait_for_url("**/render/")
    return page


def test_the_render_function_gets_the_context(signed_in: Page) -> None:
    expect(signed_in.locator("#rendered-for")).to_contain_text("Rendered for Alice Liddell")


def test_events_made_by_a_render_get_the_context_after_every_render(signed_in: Page) -> None:
    signed_in.locator("#who-1").click()
    expect(signed_in.locator("#out-1 textarea")).to_have_value("row 1: alice, click 1")
    # A second render (three rows now) makes new events: adapted as well.
    signed_in.locator("#rows input").fill("3")
    signed_in.locator("#rows input").press("Enter")
    expect(signed_in.locator("#who-2")).to_be_visible()
    signed_in.locator("#who-2").click()
    expect(signed_in.locator("#out-2 textarea")).to_have_value("row 2: alice, click 2")


def test_an_event_made_by_a_render_can_redirect(signed_in: Page) -> None:
    signed_in.locator("#leave").click()
    signed_in.wait_for_url("**/render/?left=alice")
    expect(signed_in.locator(".toast-body")).to_have_count(0)
