"""gr.Image: an uploaded picture is processed (mirrored, grey) and the result is shown."""

from __future__ import annotations

import io

import gradio as gr
from PIL import Image, ImageOps
from playwright.sync_api import expect
from tests.compat.harness import CompatApp, Visit


def png(width: int, height: int) -> bytes:
    picture = Image.new("RGB", (width, height))
    picture.putdata(
        [
            (x * 40 % 256, y * 60 % 256, (x + y) * 20 % 256)
            for y in range(height)
            for x in range(width)
        ]
    )
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def process(picture: Image.Image) -> tuple[Image.Image, str]:
    result = ImageOps.grayscale(ImageOps.mirror(picture))
    return result, f"{picture.width}x{picture.height} {picture.mode} -> {result.mode}"


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        source = gr.Image(type="pil", label="Source", elem_id="source")
        result = gr.Image(type="pil", label="Result", elem_id="result", format="png")
        described = gr.Textbox(label="Described", elem_id="described")
        source.upload(process, source, [result, described])
    return demo


def drive(visit: Visit) -> None:
    page = visit.open(ready="#source")
    visit.snapshot("render", page)
    page.locator("#source input[type=file]").set_input_files(
        visit.make_file("pic.png", png(32, 24))
    )
    expect(page.locator("#described textarea")).not_to_have_value("")
    visit.value("described", page.locator("#described textarea"))
    shown = page.locator("#result img").first
    expect(shown).to_be_visible()
    visit.wait_for_images(page, "#result img")
    visit.record("result size", shown.evaluate("i => [i.naturalWidth, i.naturalHeight]"))
    visit.fetch("result image", page, shown.get_attribute("src") or "")
    visit.snapshot("after processing", page)


APP = CompatApp("image", build, drive)
