"""gr.Error, gr.Warning and gr.Info: the messages a handler raises or sends show as toasts."""

from __future__ import annotations

import gradio as gr
from playwright.sync_api import expect
from tests.compat.harness import CompatApp, Visit


def fail() -> str:
    raise gr.Error("Something went wrong on purpose", title="Refused", duration=None)


def warn() -> str:
    gr.Warning("Careful: a warning", duration=None)
    return "warned"


def inform() -> str:
    gr.Info("For your information", duration=None)
    return "informed"


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        out = gr.Textbox(label="Out", elem_id="out")
        gr.Button("Error", elem_id="error").click(fail, None, out)
        gr.Button("Warning", elem_id="warning").click(warn, None, out)
        gr.Button("Info", elem_id="info").click(inform, None, out)
    return demo


def drive(visit: Visit) -> None:
    page = visit.open(ready="#error")
    toasts = page.locator("[data-testid='toast-body']")
    for button, output, message in (
        ("#error", None, "Something went wrong"),
        ("#warning", "warned", "Careful"),
        ("#info", "informed", "For your information"),
    ):
        page.locator(button).click()
        if output is not None:
            expect(page.locator("#out textarea")).to_have_value(output)
        expect(toasts.filter(has_text=message)).to_have_count(1)
    visit.text("toasts", toasts)
    visit.value("output", page.locator("#out textarea"))


APP = CompatApp("toasts", build, drive)
