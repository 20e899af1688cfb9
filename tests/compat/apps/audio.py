"""gr.Audio: a generated tone is drawn as a waveform, played from the page and downloaded."""

from __future__ import annotations

import gradio as gr
import numpy as np
from playwright.sync_api import expect
from tests.compat.harness import CompatApp, Visit

RATE = 8000


def tone(frequency: float, seconds: float) -> tuple[int, np.ndarray]:
    t = np.arange(int(RATE * seconds)) / RATE
    return RATE, (np.sin(2 * np.pi * frequency * t) * 12000).astype(np.int16)


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        frequency = gr.Number(440, label="Frequency", elem_id="frequency")
        seconds = gr.Number(3, label="Seconds", elem_id="seconds")
        sound = gr.Audio(label="Tone", elem_id="tone", format="wav")
        gr.Button("Make a tone", elem_id="make").click(tone, [frequency, seconds], sound)
    return demo


def drive(visit: Visit) -> None:
    page = visit.open(ready="#make")
    visit.snapshot("render", page)
    page.locator("#make").click()
    # The waveform shows the duration once the browser fetched and decoded the file.
    expect(page.locator("#tone time#duration")).to_have_text("0:03")
    link = page.locator("#tone a[data-testid='download-link']")
    visit.fetch("audio file", page, link.get_attribute("href") or "")
    visit.download("download button", page, link)
    visit.snapshot("with a tone", page)
    page.locator("#tone button.play-pause-button").click()
    expect(page.locator("#tone time#time")).not_to_have_text("0:00")
    visit.record("plays", True)


APP = CompatApp("audio", build, drive)
