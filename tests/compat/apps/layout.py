"""Layout: gr.Row of gr.Columns side by side, gr.Accordion opening, gr.Group."""

from __future__ import annotations

import gradio as gr
from playwright.sync_api import expect
from tests.compat.harness import CompatApp, Visit


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        with gr.Row():
            with gr.Column(scale=2):
                gr.Textbox("left", label="Left", elem_id="left")
            with gr.Column(scale=1):
                gr.Textbox("right", label="Right", elem_id="right")
        with gr.Accordion("More", open=False, elem_id="more"):
            gr.Textbox("hidden until opened", label="Inside", elem_id="inside")
        with gr.Group():
            gr.Textbox("one", label="Grouped one")
            gr.Textbox("two", label="Grouped two")
    return demo


def drive(visit: Visit) -> None:
    page = visit.open(ready="#left")
    visit.snapshot("render", page)
    left, right = page.locator("#left").bounding_box(), page.locator("#right").bounding_box()
    assert left is not None and right is not None
    visit.record("columns side by side", left["x"] + left["width"] <= right["x"])
    visit.record("left column wider", left["width"] > right["width"])
    visit.record("accordion content shown before opening", page.locator("#inside").is_visible())
    page.get_by_text("More").click()
    expect(page.locator("#inside")).to_be_visible()
    visit.snapshot("accordion open", page)


APP = CompatApp("layout", build, drive)
