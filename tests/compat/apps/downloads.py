"""Downloads: a gr.File output made by an event, and a gr.DownloadButton."""

from __future__ import annotations

import tempfile
from pathlib import Path

import gradio as gr
from playwright.sync_api import expect
from tests.compat.harness import CompatApp, Visit

REPORT = "\n".join(f"line {i}: {'x' * (i % 17)}" for i in range(500)).encode()


def make_report(title: str) -> str:
    path = Path(tempfile.mkdtemp()) / f"{title or 'report'}.txt"
    path.write_bytes(title.encode() + b"\n" + REPORT)
    return str(path)


def build() -> gr.Blocks:
    static = Path(tempfile.mkdtemp()) / "static.csv"
    static.write_text("name,value\nalpha,1\nbeta,2\n")
    with gr.Blocks() as demo:
        title = gr.Textbox(value="summary", label="Title", elem_id="title")
        report = gr.File(label="Report", elem_id="report")
        gr.Button("Make", elem_id="make").click(make_report, title, report)
        gr.DownloadButton("Download the table", value=str(static), elem_id="table")
    return demo


def drive(visit: Visit) -> None:
    page = visit.open(ready="#make")
    visit.snapshot("render", page)
    page.locator("#make").click()
    link = page.locator("#report a[download]")
    expect(link).to_have_count(1)
    visit.text("file shown", page.locator("#report .file-name, #report td.filename"))
    visit.download("gr.File download", page, link)
    visit.fetch("gr.File link", page, link.get_attribute("href") or "")
    visit.download("gr.DownloadButton download", page, page.locator("#table"))


APP = CompatApp("downloads", build, drive)
