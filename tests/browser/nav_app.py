"""Blocks whose handlers navigate in every way the portal supports."""

from __future__ import annotations

import time
from collections.abc import Iterator

import gradio as gr

from gradio_portal import Context, Redirect


def returned(number: float) -> Redirect:
    return Redirect(f"/nav/?n={int(number)}")


def _deep_helper(depth: int) -> None:
    if depth == 0:
        raise Redirect("/nav/?raised=1")
    _deep_helper(depth - 1)


def raised(ctx: Context) -> str:
    _deep_helper(5)
    return "not reached"


def mid_stream() -> Iterator[str]:
    for i in range(3):
        yield f"step {i}"
        time.sleep(0.05)
    raise Redirect("/nav/?stream=done")


def beside_outputs(text: str) -> tuple[str, Redirect]:
    return text.upper(), Redirect("/nav/?beside=1")


def to_other_app() -> Redirect:
    return Redirect("/other/")


def replacing() -> Redirect:
    return Redirect("/nav/?replaced=1", replace=True)


def hostile(target: str) -> Redirect:
    return Redirect(target)


def whoami(ctx: Context) -> str:
    return f"signed in as {ctx.user.username}"


def on_load(ctx: Context) -> str | Redirect:
    if ctx.query.get("bounce") == "1":
        return Redirect("/nav/?bounced=1", replace=True)
    return f"page {ctx.page}"


def build_nav_app() -> gr.Blocks:
    with gr.Blocks() as demo:
        status = gr.Textbox(label="status", elem_id="status")
        number = gr.Number(value=7, elem_id="number")
        target = gr.Textbox(label="target", elem_id="target")
        gr.Button("returned", elem_id="returned").click(returned, number, None)
        gr.Button("raised", elem_id="raised").click(raised, None, status)
        gr.Button("mid-stream", elem_id="mid-stream").click(mid_stream, None, status)
        gr.Button("beside", elem_id="beside").click(beside_outputs, target, [status])
        gr.Button("other app", elem_id="other-app").click(to_other_app, None, None)
        gr.Button("replace", elem_id="replace").click(replacing, None, None)
        gr.Button("hostile", elem_id="hostile").click(hostile, target, None)
        gr.Button("whoami", elem_id="whoami").click(whoami, None, status)
        demo.load(on_load, None, status)
    return demo


def build_other_app() -> gr.Blocks:
    with gr.Blocks() as other:
        gr.Markdown("# The other app", elem_id="other-title")
    return other
