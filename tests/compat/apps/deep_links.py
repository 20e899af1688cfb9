"""gr.DeepLinkButton: a link to the page with its current values, which restores them."""

from __future__ import annotations

import gradio as gr
from playwright.sync_api import expect
from tests.compat.harness import CompatApp, Visit

# The button copies the link to the clipboard once Gradio answered: keep a copy in the page,
# so that the test can wait for it.
KEEP_COPIED_TEXT = """() => {
  const write = navigator.clipboard.writeText.bind(navigator.clipboard);
  navigator.clipboard.writeText = (text) => {
    window.copiedText = text;
    return write(text);
  };
}"""


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        text = gr.Textbox(label="Text", elem_id="text")
        out = gr.Textbox(label="Reversed", elem_id="out")
        gr.Button("Reverse", elem_id="reverse").click(lambda t: t[::-1], text, out)
        gr.DeepLinkButton()
    return demo


def drive(visit: Visit) -> None:
    context = visit.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = visit.open(context=context, ready="#reverse")
    visit.snapshot("render", page)
    page.locator("#text textarea").fill("deep link")
    page.locator("#reverse").click()
    expect(page.locator("#out textarea")).to_have_value("knil peed")
    page.evaluate(KEEP_COPIED_TEXT)
    with page.expect_response(lambda r: "/gradio_api/deep_link" in r.url) as made:
        page.get_by_role("button", name="Share via Link").click()
    visit.record("deep link answer", made.value.status)
    page.wait_for_function("() => window.copiedText !== undefined")
    link = page.evaluate("window.copiedText")
    visit.record("link copied", link.removeprefix(visit.url).split("deep_link=")[0] + "deep_link=")
    restored = visit.open(link.removeprefix(visit.url), context=context, ready="#reverse")
    expect(restored.locator("#out textarea")).not_to_have_value("")
    visit.value("restored text", restored.locator("#text textarea"))
    visit.value("restored output", restored.locator("#out textarea"))


APP = CompatApp("deep_links", build, drive, adopted=True)
