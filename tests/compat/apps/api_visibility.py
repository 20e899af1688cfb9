"""api_visibility= ("public", "undocumented", "private"): what the API page and
gradio_api/info show, while every event still works from the page."""

from __future__ import annotations

import gradio as gr
from playwright.sync_api import expect
from tests.compat.harness import CompatApp, Visit

VISIBILITIES = ("public", "undocumented", "private")


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        for visibility in VISIBILITIES:
            out = gr.Textbox(label=f"{visibility} output", elem_id=f"{visibility}-out")
            gr.Button(f"Run {visibility}", elem_id=visibility).click(
                lambda v=visibility: f"{v} ran",
                None,
                out,
                api_name=f"{visibility}_endpoint",
                api_visibility=visibility,
            )
    return demo


def drive(visit: Visit) -> None:
    page = visit.open(ready="#public")
    visit.snapshot("render", page)
    for visibility in VISIBILITIES:
        page.locator(f"#{visibility}").click()
        expect(page.locator(f"#{visibility}-out textarea")).to_have_value(f"{visibility} ran")
    info = page.request.get(visit.url + "/gradio_api/info")
    visit.record("gradio_api/info status", info.status)
    visit.record("documented endpoints", sorted(info.json().get("named_endpoints", {})))
    page.get_by_role("button", name="Use via API").click()
    docs = page.locator(".api-docs, [data-testid='api-docs']").first
    expect(docs).to_contain_text("public_endpoint")
    visit.record(
        "endpoints on the API page",
        sorted(
            name
            for name in ("public_endpoint", "undocumented_endpoint", "private_endpoint")
            if name in docs.inner_text()
        ),
    )


APP = CompatApp("api_visibility", build, drive)
