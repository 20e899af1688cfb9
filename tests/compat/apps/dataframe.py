"""gr.Dataframe: a cell edited in the page reaches the handler, which sums the table."""

from __future__ import annotations

import gradio as gr
import pandas as pd
from playwright.sync_api import expect
from tests.compat.harness import CompatApp, Visit


def total(table: pd.DataFrame) -> str:
    numbers = table.apply(pd.to_numeric, errors="coerce").fillna(0)
    return f"sum {int(numbers.to_numpy().sum())} over {len(table)} rows"


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        table = gr.Dataframe(
            value=[[1, 2], [3, 4]],
            headers=["a", "b"],
            datatype=["number", "number"],
            interactive=True,
            label="Table",
            elem_id="table",
        )
        shown = gr.Textbox(label="Total", elem_id="total")
        table.input(total, table, shown)
        gr.Button("Sum", elem_id="sum").click(total, table, shown)
    return demo


def drive(visit: Visit) -> None:
    page = visit.open(ready="#table")
    visit.snapshot("render", page)
    page.locator("#sum").click()
    expect(page.locator("#total textarea")).to_have_value("sum 10 over 2 rows")
    page.locator("#table [data-testid='cell-1-1']").dblclick()
    editor = page.locator("#table textarea, #table input:not([type=checkbox])").first
    editor.fill("40")
    editor.press("Enter")
    page.locator("#sum").click()
    expect(page.locator("#total textarea")).not_to_have_value("sum 10 over 2 rows")
    visit.value("total after an edit", page.locator("#total textarea"))
    visit.text("cells", page.locator("#table [data-testid^='cell-']"))


APP = CompatApp("dataframe", build, drive)
