"""gr.Request in a handler: the page's query parameters, in a load event and a click."""

from __future__ import annotations

import gradio as gr
from playwright.sync_api import expect
from tests.compat.harness import CompatApp, Visit


def describe(request: gr.Request) -> str:
    query = dict(request.query_params)
    return ", ".join(f"{key}={value}" for key, value in sorted(query.items())) or "no query"


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        on_load = gr.Textbox(label="On load", elem_id="on-load")
        on_click = gr.Textbox(label="On click", elem_id="on-click")
        demo.load(describe, None, on_load)
        gr.Button("Ask", elem_id="ask").click(describe, None, on_click)
    return demo


def drive(visit: Visit) -> None:
    page = visit.open("/?topic=cats&n=3", ready="#ask")
    expect(page.locator("#on-load textarea")).not_to_have_value("")
    visit.value("query on load", page.locator("#on-load textarea"))
    page.locator("#ask").click()
    expect(page.locator("#on-click textarea")).not_to_have_value("")
    visit.value("query on click", page.locator("#on-click textarea"))
    plain = visit.open(ready="#ask")
    expect(plain.locator("#on-load textarea")).not_to_have_value("")
    visit.value("no query on load", plain.locator("#on-load textarea"))


APP = CompatApp("request_query", build, drive)
