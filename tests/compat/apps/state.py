"""gr.State: a value per page, kept between that page's events and separate between pages."""

from __future__ import annotations

import gradio as gr
from playwright.sync_api import expect
from tests.compat.harness import CompatApp, Visit


def add(count: int, word: str) -> tuple[int, str]:
    count += 1
    return count, f"{word} #{count}"


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        count = gr.State(0)
        word = gr.Textbox(value="click", label="Word", elem_id="word")
        shown = gr.Textbox(label="Count", elem_id="count")
        gr.Button("Add", elem_id="add").click(add, [count, word], [count, shown])
    return demo


def drive(visit: Visit) -> None:
    context = visit.new_context()
    first = visit.open(context=context, ready="#add")
    visit.snapshot("render", first)
    first.locator("#add").click()
    expect(first.locator("#count textarea")).to_have_value("click #1")
    first.locator("#add").click()
    expect(first.locator("#count textarea")).to_have_value("click #2")
    second = visit.open(context=context, ready="#add")
    second.locator("#add").click()
    expect(second.locator("#count textarea")).not_to_have_value("")
    visit.value("second page after one click", second.locator("#count textarea"))
    first.locator("#add").click()
    expect(first.locator("#count textarea")).not_to_have_value("click #2")
    visit.value("first page after three clicks", first.locator("#count textarea"))
    first.reload()
    first.locator("#add").click()
    expect(first.locator("#count textarea")).not_to_have_value("")
    visit.value("first page reloaded, one click", first.locator("#count textarea"))


APP = CompatApp("state", build, drive)
