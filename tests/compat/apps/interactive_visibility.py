"""gr.update and component updates: a button made non-interactive, a field hidden and shown."""

from __future__ import annotations

import gradio as gr
from playwright.sync_api import expect
from tests.compat.harness import CompatApp, Visit


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        target = gr.Button("Target", elem_id="target")
        field = gr.Textbox("now you see me", label="Field", elem_id="field")
        clicks = gr.Textbox(label="Clicks", elem_id="clicks")
        target.click(lambda: "target clicked", None, clicks)
        gr.Button("Lock", elem_id="lock").click(lambda: gr.Button(interactive=False), None, target)
        gr.Button("Unlock", elem_id="unlock").click(
            lambda: gr.update(interactive=True), None, target
        )
        gr.Button("Hide", elem_id="hide").click(lambda: gr.update(visible=False), None, field)
        gr.Button("Show", elem_id="show").click(lambda: gr.Textbox(visible=True), None, field)
    return demo


def drive(visit: Visit) -> None:
    page = visit.open(ready="#target")
    visit.snapshot("render", page)
    page.locator("#lock").click()
    expect(page.locator("#target")).to_be_disabled()
    page.locator("#hide").click()
    expect(page.locator("#field")).to_be_hidden()
    visit.snapshot("locked and hidden", page)
    page.locator("#unlock").click()
    expect(page.locator("#target")).to_be_enabled()
    page.locator("#show").click()
    expect(page.locator("#field")).to_be_visible()
    page.locator("#target").click()
    expect(page.locator("#clicks textarea")).to_have_value("target clicked")
    visit.snapshot("unlocked and shown", page)


APP = CompatApp("interactive_visibility", build, drive)
