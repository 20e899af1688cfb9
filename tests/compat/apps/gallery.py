"""gr.Gallery: generated images with captions, and the preview of one of them."""

from __future__ import annotations

import gradio as gr
from PIL import Image
from playwright.sync_api import expect
from tests.compat.harness import CompatApp, Visit

COLOURS = ("red", "green", "blue")


def pictures(size: float) -> list[tuple[Image.Image, str]]:
    side = int(size)
    return [(Image.new("RGB", (side, side), colour), f"a {colour} square") for colour in COLOURS]


def chosen_picture(evt: gr.SelectData) -> str:
    return f"{evt.index}: {evt.value['caption']}"


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        size = gr.Number(48, label="Size", elem_id="size")
        gallery = gr.Gallery(label="Squares", elem_id="gallery", columns=3, format="png")
        chosen = gr.Textbox(label="Chosen", elem_id="chosen")
        gr.Button("Paint", elem_id="paint").click(pictures, size, gallery)
        gallery.select(chosen_picture, None, chosen)
    return demo


def drive(visit: Visit) -> None:
    page = visit.open(ready="#paint")
    visit.snapshot("render", page)
    page.locator("#paint").click()
    thumbnails = page.locator("#gallery .thumbnail-item img, #gallery button.thumbnail-item img")
    expect(thumbnails).to_have_count(len(COLOURS))
    visit.wait_for_images(page, "#gallery img")
    visit.record("thumbnail sizes", thumbnails.evaluate_all("l => l.map(i => i.naturalWidth)"))
    visit.fetch("first picture", page, thumbnails.first.get_attribute("src") or "")
    thumbnails.nth(1).click()
    expect(page.locator("#chosen textarea")).not_to_have_value("")
    visit.value("selected", page.locator("#chosen textarea"))
    visit.text("caption in the preview", page.locator("#gallery .caption-label, #gallery .caption"))


APP = CompatApp("gallery", build, drive)
