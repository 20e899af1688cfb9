"""gr.Progress: the progress a handler reports shows on its output while it runs."""

from __future__ import annotations

import asyncio

import gradio as gr
from playwright.sync_api import expect
from tests.compat.harness import CompatApp, Visit

GATE_TIMEOUT = 30


def build() -> gr.Blocks:
    gates: dict[str, asyncio.Event] = {}

    def gate(request: gr.Request) -> asyncio.Event:
        return gates.setdefault(str(request.session_hash), asyncio.Event())

    async def work(request: gr.Request, progress: gr.Progress = gr.Progress()) -> str:  # noqa: B008
        progress((1, 3), desc="Crunching")
        release = gate(request)
        await asyncio.wait_for(release.wait(), GATE_TIMEOUT)
        release.clear()
        return "crunched"

    async def release(request: gr.Request) -> None:
        gate(request).set()

    with gr.Blocks() as demo:
        result = gr.Textbox(label="Result", elem_id="result")
        gr.Button("Work", elem_id="work").click(work, None, result)
        gr.Button("Release", elem_id="release").click(release, None, None)
    return demo


def drive(visit: Visit) -> None:
    page = visit.open(ready="#work")
    page.locator("#work").click()
    bar = page.locator("#result [role=progressbar]")
    expect(bar).to_have_count(1)
    visit.record("progress bar", bar.get_attribute("aria-valuetext"))
    visit.text("progress description", page.locator("#result .progress-level-inner"))
    page.locator("#release").click()
    expect(page.locator("#result textarea")).to_have_value("crunched")
    expect(bar).to_have_count(0)
    visit.snapshot("finished", page)


APP = CompatApp("progress", build, drive)
