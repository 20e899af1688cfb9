"""gr.Interface: two inputs, one output, Submit and Clear, and (uncached) examples."""

from __future__ import annotations

import gradio as gr
from playwright.sync_api import expect
from tests.compat.harness import CompatApp, Visit


def repeat(word: str, times: float) -> str:
    return " ".join([word] * int(times))


def build() -> gr.Blocks:
    return gr.Interface(
        repeat,
        [gr.Textbox(label="Word", elem_id="word"), gr.Slider(1, 5, value=2, step=1, label="Times")],
        gr.Textbox(label="Repeated", elem_id="repeated"),
        examples=[["echo", 3]],
        flagging_mode="never",
        title="Repeat a word",
    )


def drive(visit: Visit) -> None:
    page = visit.open(ready="#word")
    visit.snapshot("render", page)
    page.locator("#word textarea").fill("hi")
    page.get_by_role("button", name="Submit").click()
    expect(page.locator("#repeated textarea")).not_to_have_value("")
    visit.value("submitted", page.locator("#repeated textarea"))
    page.get_by_role("button", name="Clear").click()
    expect(page.locator("#word textarea")).to_have_value("")
    expect(page.locator("#repeated textarea")).to_have_value("")
    page.get_by_role("gridcell", name="echo").click()
    expect(page.locator("#word textarea")).to_have_value("echo")
    page.get_by_role("button", name="Submit").click()
    expect(page.locator("#repeated textarea")).not_to_have_value("")
    visit.value("example submitted", page.locator("#repeated textarea"))


APP = CompatApp("interface", build, drive, adopted=True)
