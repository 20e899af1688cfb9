"""gr.BrowserState: a value kept in the browser's localStorage, across reloads of the page."""

from __future__ import annotations

import gradio as gr
from playwright.sync_api import Page, expect
from tests.compat.harness import CompatApp, Visit

STORAGE_KEY = "compat-visits"
STORED = f"localStorage.getItem({STORAGE_KEY!r})"


def count_visit(stored: dict[str, int]) -> tuple[dict[str, int], str]:
    visits = int(stored.get("visits", 0)) + 1
    return {"visits": visits}, f"visit {visits}"


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        stored = gr.BrowserState({"visits": 0}, storage_key=STORAGE_KEY, secret="compat-secret")
        shown = gr.Textbox(label="Visits", elem_id="visits")
        gr.Button("Visit", elem_id="visit").click(count_visit, stored, [stored, shown])
    return demo


def visit_once(page: Page) -> str:
    """Click Visit and wait until the browser stored the new value (encrypted anew at every
    write, so any write changes the stored text)."""
    before = page.evaluate(STORED)
    page.locator("#visit").click()
    expect(page.locator("#visits textarea")).not_to_have_value("")
    page.wait_for_function(f"(before) => {STORED} !== before", arg=before)
    return page.locator("#visits textarea").input_value()


def drive(visit: Visit) -> None:
    context = visit.new_context()
    page = visit.open(context=context, ready="#visit")
    visit.snapshot("render", page)
    visit.record("first visit", visit_once(page))
    page.reload()
    page.wait_for_load_state("load")
    visit.wait_until_rendered(page)
    visit.record("after a reload", visit_once(page))
    other = visit.open(ready="#visit")  # another browser: its own storage
    visit.record("in another browser", visit_once(other))


APP = CompatApp("browser_state", build, drive)
