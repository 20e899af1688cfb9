"""gr.Timer: ticks run an event until the handler turns the timer off (after three ticks)."""

from __future__ import annotations

import gradio as gr
from playwright.sync_api import expect
from tests.compat.harness import CompatApp, Visit

TICKS = 3


def tick(count: float | None) -> tuple[int, str, gr.Timer]:
    # min(): a tick already on its way when the timer stops changes nothing.
    ticks = min(int(count or 0) + 1, TICKS)
    return (
        ticks,
        f"{ticks} ticks" + (", stopped" if ticks == TICKS else ""),
        gr.Timer(active=ticks < TICKS),
    )


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        timer = gr.Timer(0.2, active=False)
        count = gr.Number(0, label="Ticks", elem_id="ticks")
        shown = gr.Textbox(label="State", elem_id="state")
        timer.tick(tick, count, [count, shown, timer])
        gr.Button("Start", elem_id="start").click(lambda: gr.Timer(active=True), None, timer)
    return demo


def drive(visit: Visit) -> None:
    page = visit.open(ready="#start")
    visit.snapshot("render", page)
    page.locator("#start").click()
    expect(page.locator("#state textarea")).to_have_value(f"{TICKS} ticks, stopped")
    visit.value("ticks", page.locator("#ticks input"))


APP = CompatApp("timer", build, drive)
