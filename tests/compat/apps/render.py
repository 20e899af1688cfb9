"""@gr.render: components and their events made per page from an input's value."""

from __future__ import annotations

import gradio as gr
from playwright.sync_api import expect
from tests.compat.harness import CompatApp, Visit


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        count = gr.Number(value=2, precision=0, label="Boxes", elem_id="count")
        joined = gr.Textbox(label="Joined", elem_id="joined")

        @gr.render(inputs=count)
        def boxes(n: float | None) -> None:
            fields = [
                gr.Textbox(value=f"v{i}", label=f"Box {i}", elem_id=f"box-{i}", interactive=True)
                for i in range(int(n or 0))
            ]
            gr.Button("Join", elem_id="join").click(lambda *v: "-".join(v), fields, joined)

    return demo


def drive(visit: Visit) -> None:
    page = visit.open(ready="#join")
    visit.snapshot("render", page)
    page.locator("#join").click()
    expect(page.locator("#joined textarea")).to_have_value("v0-v1")
    page.locator("#count input").fill("3")
    page.locator("#count input").press("Enter")
    page.locator("#box-2").wait_for()
    page.locator("#box-2 textarea").fill("new")
    page.locator("#join").click()
    expect(page.locator("#joined textarea")).not_to_have_value("v0-v1")
    visit.value("joined after a re-render", page.locator("#joined textarea"))
    visit.snapshot("render with three boxes", page)


APP = CompatApp("render", build, drive)
