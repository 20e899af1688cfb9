"""mcp_server=True: the app renders with Gradio's MCP server on, and its tool is described.

Only the bare side is driven here: see tests/compat/differences.py.
"""

from __future__ import annotations

import gradio as gr
from playwright.sync_api import expect
from tests.compat.harness import CompatApp, Visit


def letter_count(word: str, letter: str) -> int:
    """Count how often a letter occurs in a word.

    Args:
        word: the word to search
        letter: the letter to count
    """
    return word.count(letter)


def build() -> gr.Blocks:
    return gr.Interface(
        letter_count,
        [gr.Textbox(label="Word", elem_id="word"), gr.Textbox(label="Letter", elem_id="letter")],
        gr.Number(label="Count", elem_id="count"),
        flagging_mode="never",
        api_name="letter_count",
    )


def drive(visit: Visit) -> None:
    page = visit.open(ready="#word")
    visit.snapshot("render", page)
    page.locator("#word textarea").fill("strawberry")
    page.locator("#letter textarea").fill("r")
    page.get_by_role("button", name="Submit").click()
    expect(page.locator("#count input")).to_have_value("3")
    schema = page.request.get(visit.url + "/gradio_api/mcp/schema")
    visit.record("MCP schema status", schema.status)
    visit.record("MCP tools", sorted(tool["name"] for tool in schema.json()))


APP = CompatApp("mcp", build, drive, mount_options={"mcp_server": True})
