"""gr.HTML with js_on_load: server_functions called from the page, trigger() of a Python
event, and watch() of a value set by an event."""

from __future__ import annotations

import gradio as gr
from playwright.sync_api import expect
from tests.compat.harness import CompatApp, Visit

TEMPLATE = """
<div>
  <button id="ask" type="button">Ask the server</button>
  <span id="answer"></span>
  <button id="poke" type="button">Poke Python</button>
  <span id="watched">${value}</span>
</div>
"""
ON_LOAD = """
element.querySelector('#ask').addEventListener('click', async () => {
  element.querySelector('#answer').textContent = 'the server says ' + await server.double(21);
});
element.querySelector('#poke').addEventListener('click', () => trigger('click'));
watch('value', () => { element.querySelector('#watched').dataset.seen = props.value; });
"""


def double(x: int) -> int:
    return x * 2


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        html = gr.HTML(
            "initial",
            html_template=TEMPLATE,
            js_on_load=ON_LOAD,
            server_functions=[double],
            elem_id="widget",
        )
        pokes = gr.Textbox(label="Pokes", elem_id="pokes")
        html.click(lambda: ("poked from the page", "value set by Python"), None, [pokes, html])
    return demo


def drive(visit: Visit) -> None:
    page = visit.open(ready="#ask")
    visit.snapshot("render", page)
    page.locator("#ask").click()
    expect(page.locator("#answer")).to_contain_text("the server says")
    visit.text("server function answer", page.locator("#answer"))
    page.locator("#poke").click()
    expect(page.locator("#pokes textarea")).not_to_have_value("")
    visit.value("event triggered from the page", page.locator("#pokes textarea"))
    expect(page.locator("#watched[data-seen]")).to_have_count(1)
    visit.record("watched value", page.locator("#watched").get_attribute("data-seen"))
    visit.text("template after the event", page.locator("#watched"))


APP = CompatApp("html_js", build, drive)
