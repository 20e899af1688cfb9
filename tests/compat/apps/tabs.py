"""gr.Tabs: switching tabs shows their content, and Tab.select reports the selected tab (the
first one's when the page mounts, too)."""

from __future__ import annotations

import re

import gradio as gr
from playwright.sync_api import expect
from tests.compat.harness import CompatApp, Visit


def selected(evt: gr.SelectData) -> str:
    return f"selected {evt.value} ({evt.index})"


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        shown = gr.Textbox(label="Selected", elem_id="selected")
        with gr.Tabs():
            for index, name in enumerate(("First", "Second", "Third")):
                with gr.Tab(name, elem_id=f"tab-{index}") as tab:
                    gr.Markdown(f"Content of the {name.lower()} tab")
                    gr.Textbox(value=name.lower(), label=f"{name} field")
                tab.select(selected, None, shown)
    return demo


def drive(visit: Visit) -> None:
    page = visit.open(ready="#selected")
    # Gradio fires the first tab's select event when the page mounts. Its reply must arrive
    # before the clicks below: the replies of two events can land in either order, and the
    # later one sets the textbox.
    expect(page.locator("#selected textarea")).to_have_value(re.compile("First"))
    visit.value("on load", page.locator("#selected textarea"))
    visit.snapshot("render", page)
    page.get_by_role("tab", name="Second").click()
    expect(page.locator("#selected textarea")).to_have_value(re.compile("Second"))
    visit.value("after selecting Second", page.locator("#selected textarea"))
    visit.snapshot("Second tab", page)
    page.get_by_role("tab", name="Third").click()
    expect(page.locator("#selected textarea")).to_have_value(re.compile("Third"))
    visit.value("after selecting Third", page.locator("#selected textarea"))


APP = CompatApp("tabs", build, drive)
