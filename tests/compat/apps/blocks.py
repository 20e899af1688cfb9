"""gr.Blocks: a click, a textbox submit, and an event with several inputs and outputs."""

from __future__ import annotations

import gradio as gr
from playwright.sync_api import expect
from tests.compat.harness import CompatApp, Visit


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        gr.Markdown("# Blocks")
        name = gr.Textbox(label="Name", elem_id="name")
        greeting = gr.Textbox(label="Greeting", elem_id="greeting")
        length = gr.Number(label="Length", elem_id="length")
        gr.Button("Greet", elem_id="greet").click(
            lambda n: (f"Hello {n}!", len(n)), name, [greeting, length]
        )
        name.submit(lambda n: (f"Submitted {n}", len(n)), name, [greeting, length])
    return demo


def drive(visit: Visit) -> None:
    page = visit.open(ready="#greet")
    visit.snapshot("render", page)
    page.locator("#name textarea").fill("Ada")
    page.locator("#greet").click()
    expect(page.locator("#greeting textarea")).to_have_value("Hello Ada!")
    visit.value("length after click", page.locator("#length input"))
    page.locator("#name textarea").fill("Grace")
    page.locator("#name textarea").press("Enter")
    expect(page.locator("#greeting textarea")).not_to_have_value("Hello Ada!")
    visit.value("greeting after submit", page.locator("#greeting textarea"))
    visit.value("length after submit", page.locator("#length input"))


APP = CompatApp("blocks", build, drive)
