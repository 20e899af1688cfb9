"""cancels=: a Stop button cancels a running generator, which sees the cancellation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import gradio as gr
from playwright.sync_api import expect
from tests.compat.harness import CompatApp, Visit

WAIT = 30


def build() -> gr.Blocks:
    cancelled: dict[str, asyncio.Event] = {}

    def flag(request: gr.Request) -> asyncio.Event:
        return cancelled.setdefault(str(request.session_hash), asyncio.Event())

    async def run_forever(request: gr.Request) -> AsyncIterator[str]:
        yield "running"
        try:
            await asyncio.sleep(WAIT)
            yield "never cancelled"
        except asyncio.CancelledError:
            flag(request).set()
            raise

    async def check(request: gr.Request) -> str:
        try:
            await asyncio.wait_for(flag(request).wait(), WAIT)
        except TimeoutError:
            return "the generator was not cancelled"
        return "the generator was cancelled"

    with gr.Blocks() as demo:
        shown = gr.Textbox(label="Run", elem_id="shown")
        checked = gr.Textbox(label="Check", elem_id="checked")
        run = gr.Button("Run", elem_id="run").click(run_forever, None, shown)
        gr.Button("Stop", elem_id="stop").click(None, None, None, cancels=[run])
        gr.Button("Check", elem_id="check").click(check, None, checked)
    return demo


def drive(visit: Visit) -> None:
    page = visit.open(ready="#run")
    page.locator("#run").click()
    expect(page.locator("#shown textarea")).to_have_value("running")
    page.locator("#stop").click()
    page.locator("#check").click()
    expect(page.locator("#checked textarea")).not_to_have_value("")
    visit.value("check", page.locator("#checked textarea"))
    expect(page.locator("#shown .pending, #shown .generating")).to_have_count(0)
    visit.value("output after the cancel", page.locator("#shown textarea"))
    visit.snapshot("after the cancel", page)


APP = CompatApp("cancels", build, drive)
