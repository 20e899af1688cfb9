"""gr.Dropdown change events, and a .then chain that runs after them."""

from __future__ import annotations

import gradio as gr
from playwright.sync_api import expect
from tests.compat.harness import CompatApp, Visit

COLOURS = {"red": "#ff0000", "green": "#00ff00", "blue": "#0000ff"}


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        colour = gr.Dropdown(list(COLOURS), value="red", label="Colour", elem_id="colour")
        code = gr.Textbox(label="Code", elem_id="code")
        sentence = gr.Textbox(label="Sentence", elem_id="sentence")
        colour.change(lambda c: COLOURS[c], colour, code).then(
            lambda c, h: f"{c} is {h}", [colour, code], sentence
        )
    return demo


def drive(visit: Visit) -> None:
    page = visit.open(ready="#colour")
    visit.snapshot("render", page)
    page.locator("#colour input").click()
    page.get_by_role("option", name="blue").click()
    expect(page.locator("#sentence textarea")).to_have_value("blue is #0000ff")
    visit.value("code", page.locator("#code textarea"))
    visit.value("dropdown", page.locator("#colour input"))


APP = CompatApp("dropdown_then", build, drive)
