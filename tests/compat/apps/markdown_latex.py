"""gr.Markdown: LaTeX (KaTeX), a table, code, links; updated by an event."""

from __future__ import annotations

import gradio as gr
from playwright.sync_api import expect
from tests.compat.harness import CompatApp, Visit

TEXT = r"""
## Formulas

Inline: $e^{i\pi} + 1 = 0$ and display:

$$\int_0^1 x^2\,dx = \frac{1}{3}$$

| a | b |
|---|---|
| 1 | 2 |

`code` and [a link](https://www.gradio.app)
"""


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        shown = gr.Markdown(
            TEXT,
            latex_delimiters=[
                {"left": "$$", "right": "$$", "display": True},
                {"left": "$", "right": "$", "display": False},
            ],
            elem_id="md",
        )
        gr.Button("Change", elem_id="change").click(
            lambda: r"Now: $\sqrt{2} \approx 1.414$", None, shown
        )
    return demo


def drive(visit: Visit) -> None:
    page = visit.open(ready="#md .katex")
    visit.snapshot("render", page)
    visit.record("formulas", page.locator("#md .katex").count())
    visit.text("formula sources", page.locator("#md annotation"))
    visit.record("link", page.locator("#md a").first.get_attribute("href"))
    page.locator("#change").click()
    expect(page.locator("#md")).to_contain_text("Now")
    visit.text("formula sources after the change", page.locator("#md annotation"))


APP = CompatApp("markdown_latex", build, drive)
