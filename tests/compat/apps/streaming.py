"""Generator outputs: each yield reaches the page while the generator is still running.

The generator waits after each yield until the page asks for the next step (a second event),
so every intermediate value is seen in the browser without any timing assumption.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import gradio as gr
from playwright.sync_api import expect
from tests.compat.harness import CompatApp, Visit

STEPS = 3
# Long enough for any page, short enough that an abandoned generator ends soon.
GATE_TIMEOUT = 30


def build() -> gr.Blocks:
    gates: dict[str, asyncio.Event] = {}

    def gate(request: gr.Request) -> asyncio.Event:
        return gates.setdefault(str(request.session_hash), asyncio.Event())

    async def count_up(request: gr.Request) -> AsyncIterator[str]:
        for step in range(1, STEPS + 1):
            yield f"step {step} of {STEPS}"
            if step < STEPS:
                next_step = gate(request)
                await asyncio.wait_for(next_step.wait(), GATE_TIMEOUT)
                next_step.clear()

    async def go_on(request: gr.Request) -> None:
        gate(request).set()

    with gr.Blocks() as demo:
        shown = gr.Textbox(label="Progress", elem_id="shown")
        gr.Button("Start", elem_id="start").click(count_up, None, shown)
        gr.Button("Next", elem_id="next").click(go_on, None, None)
    return demo


def drive(visit: Visit) -> None:
    page = visit.open(ready="#start")
    visit.snapshot("render", page)
    page.locator("#start").click()
    for step in range(1, STEPS):
        expect(page.locator("#shown textarea")).to_have_value(f"step {step} of {STEPS}")
        visit.record(f"generating at step {step}", page.locator("#shown .generating").count())
        page.locator("#next").click()
    expect(page.locator("#shown textarea")).to_have_value(f"step {STEPS} of {STEPS}")
    expect(page.locator("#shown .pending, #shown .generating")).to_have_count(0)
    visit.snapshot("finished", page)


APP = CompatApp("streaming", build, drive)
