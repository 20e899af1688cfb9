"""gr.on: one handler for several triggers (a change, a submit, a click)."""

from __future__ import annotations

import re

import gradio as gr
from playwright.sync_api import expect
from tests.compat.harness import CompatApp, Visit


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        a = gr.Number(1, label="a", elem_id="a")
        b = gr.Textbox("x", label="b", elem_id="b")
        button = gr.Button("Go", elem_id="go")
        out = gr.Textbox(label="Out", elem_id="out")
        runs = gr.State(0)

        @gr.on([a.change, b.submit, button.click], inputs=[a, b, runs], outputs=[out, runs])
        def combine(x: float, y: str, n: int) -> tuple[str, int]:
            return f"run {n + 1}: {x:g} {y}", n + 1

    return demo


def drive(visit: Visit) -> None:
    page = visit.open(ready="#go")
    visit.snapshot("render", page)
    page.locator("#go").click()
    expect(page.locator("#out textarea")).to_have_value("run 1: 1 x")
    page.locator("#a input").fill("5")
    page.locator("#a input").press("Tab")
    expect(page.locator("#out textarea")).to_have_value("run 2: 5 x")
    page.locator("#b textarea").fill("y")
    page.locator("#b textarea").press("Enter")
    expect(page.locator("#out textarea")).to_have_value(re.compile("^run 3"))
    visit.value("after three triggers", page.locator("#out textarea"))


APP = CompatApp("gr_on", build, drive)
