"""Uploads: gr.File (several files) and gr.UploadButton; the handler reads the uploaded bytes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import gradio as gr
from playwright.sync_api import expect
from tests.compat.harness import CompatApp, Visit


def describe(paths: list[str] | str | None) -> str:
    if not paths:
        return "nothing"
    if isinstance(paths, str):
        paths = [paths]
    lines = []
    for path in sorted(paths, key=lambda p: Path(p).name):
        data = Path(path).read_bytes()
        lines.append(
            f"{Path(path).name}: {len(data)} bytes, {hashlib.sha256(data).hexdigest()[:12]}"
        )
    return "\n".join(lines)


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        files = gr.File(file_count="multiple", label="Files", elem_id="files")
        files_seen = gr.Textbox(label="Received", elem_id="files-seen")
        files.upload(describe, files, files_seen)
        button = gr.UploadButton("Upload one")
        button_seen = gr.Textbox(label="Received by the button", elem_id="button-seen")
        button.upload(describe, button, button_seen)
    return demo


def drive(visit: Visit) -> None:
    page = visit.open(ready="#files")
    visit.snapshot("render", page)
    first = visit.make_file("first.txt", b"one\n" * 100)
    second = visit.make_file("second.bin", bytes(range(256)) * 40)
    page.locator("#files input[type=file]").set_input_files([first, second])
    expect(page.locator("#files-seen textarea")).not_to_have_value("")
    visit.value("received by gr.File", page.locator("#files-seen textarea"))
    visit.text("files listed", page.locator("#files .file-name, #files td.filename"))
    third = visit.make_file("third.csv", b"a,b\n1,2\n")
    page.locator("input[data-testid='Upload one-upload-button']").set_input_files(third)
    expect(page.locator("#button-seen textarea")).not_to_have_value("")
    visit.value("received by gr.UploadButton", page.locator("#button-seen textarea"))


APP = CompatApp("uploads", build, drive)
