"""Cached examples: computed when the server starts; a click shows the cached output."""

from __future__ import annotations

import gradio as gr
from playwright.sync_api import expect
from tests.compat.harness import CompatApp, Visit


def build() -> gr.Blocks:
    calls: list[str] = []

    def shout(text: str) -> str:
        calls.append(text)
        return text.upper() + "!"

    with gr.Blocks() as demo:
        text = gr.Textbox(label="Text", elem_id="text")
        out = gr.Textbox(label="Shout", elem_id="out")
        gr.Button("Shout", elem_id="shout").click(shout, text, out)
        gr.Examples([["cached one"], ["cached two"]], text, out, fn=shout, cache_examples=True)
        counted = gr.Textbox(label="Calls", elem_id="calls")
        gr.Button("Count calls", elem_id="count").click(
            lambda: f"{len(calls)} calls: {', '.join(calls)}", None, counted
        )
    return demo


def drive(visit: Visit) -> None:
    page = visit.open(ready="#shout")
    visit.snapshot("render", page)
    page.locator(".gallery-item", has_text="cached two").click()
    expect(page.locator("#out textarea")).to_have_value("CACHED TWO!")
    visit.value("example input", page.locator("#text textarea"))
    page.locator("#count").click()
    expect(page.locator("#calls textarea")).not_to_have_value("")
    visit.value("calls of the function", page.locator("#calls textarea"))


APP = CompatApp("cached_examples", build, drive)
