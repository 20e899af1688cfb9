"""Queue concurrency limits: two events sharing a concurrency_id with a limit of one run one
after the other; the second waits in the queue, and the page shows it."""

from __future__ import annotations

import asyncio

import gradio as gr
from playwright.sync_api import expect
from tests.compat.harness import CompatApp, Visit

GATE_TIMEOUT = 30


def build() -> gr.Blocks:
    released: dict[str, asyncio.Event] = {}
    running: list[str] = []

    def gate(request: gr.Request) -> asyncio.Event:
        return released.setdefault(str(request.session_hash), asyncio.Event())

    async def slow(request: gr.Request) -> str:
        running.append("slow")
        try:
            await asyncio.wait_for(gate(request).wait(), GATE_TIMEOUT)
        finally:
            running.remove("slow")
        return "slow done"

    async def quick() -> str:
        return f"quick ran while {running or 'nothing'} was running"

    async def release(request: gr.Request) -> None:
        gate(request).set()

    with gr.Blocks() as demo:
        slow_out = gr.Textbox(label="Slow", elem_id="slow-out")
        quick_out = gr.Textbox(label="Quick", elem_id="quick-out")
        gr.Button("Slow", elem_id="slow").click(
            slow, None, slow_out, concurrency_limit=1, concurrency_id="one-at-a-time"
        )
        gr.Button("Quick", elem_id="quick").click(
            quick, None, quick_out, concurrency_limit=1, concurrency_id="one-at-a-time"
        )
        gr.Button("Release", elem_id="release").click(release, None, None)
    return demo


def drive(visit: Visit) -> None:
    page = visit.open(ready="#slow")
    page.locator("#slow").click()
    expect(page.locator("#slow-out .progress-text")).to_contain_text("processing")
    page.locator("#quick").click()
    queued = page.locator("#quick-out .progress-text")
    expect(queued).to_contain_text("queue")
    visit.record("quick while waiting", queued.inner_text().split("|")[0].strip())
    page.locator("#release").click()
    expect(page.locator("#slow-out textarea")).to_have_value("slow done")
    expect(page.locator("#quick-out textarea")).not_to_have_value("")
    visit.value("quick output", page.locator("#quick-out textarea"))


APP = CompatApp("concurrency", build, drive)
