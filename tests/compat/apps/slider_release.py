"""gr.Slider: .release runs once the user lets go; .change on every change."""

from __future__ import annotations

import gradio as gr
from playwright.sync_api import expect
from tests.compat.harness import CompatApp, Visit


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        level = gr.Slider(0, 100, value=10, step=1, label="Level", elem_id="level")
        released = gr.Textbox(label="Released at", elem_id="released")
        level.release(lambda v: f"released at {v}", level, released)
    return demo


def drive(visit: Visit) -> None:
    page = visit.open(ready="#level")
    visit.snapshot("render", page)
    track = page.locator("#level input[type=range]")
    box = track.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.75, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    expect(page.locator("#released textarea")).not_to_have_value("")
    slider_value = page.locator("#level input[type=number]").input_value()
    visit.record(
        "released value matches the slider",
        page.locator("#released textarea").input_value() == f"released at {slider_value}",
    )
    visit.value("slider value", page.locator("#level input[type=number]"))


APP = CompatApp("slider_release", build, drive)
