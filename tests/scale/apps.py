"""The Blocks the scale tests serve with ``gradio-portal serve`` (the chat is the built-in app).

Loaded in subprocesses as ``tests.scale.apps:build_events_app``; the repository root is on
their PYTHONPATH.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import cast

import gradio as gr

from gradio_portal import Context

__all__ = ["build_events_app"]

# The portal fills Context parameters in; a default tells Gradio they take no input.
INJECTED = cast(Context, None)


def whoami(ctx: Context = INJECTED) -> str:
    # The process id shows which portal process answered: tests check affinity with it.
    return f"{ctx.user.username}@{os.getpid()}"


def remember(note: str, ctx: Context = INJECTED) -> str:
    ctx.session["note"] = note
    return "stored"


def recall(ctx: Context = INJECTED) -> str:
    return str(ctx.session.get("note", "<nothing>"))


def count(limit: float, ctx: Context = INJECTED) -> Iterator[str]:
    for i in range(int(limit)):
        time.sleep(0.05)
        yield f"{ctx.user.username}:{i}"


def build_events_app() -> gr.Blocks:
    demo = gr.Blocks()
    with demo:
        text = gr.Textbox()
        number = gr.Number()
        out = gr.Textbox()
        button = gr.Button()
        button.click(whoami, None, out, api_name="whoami", concurrency_limit=None)
        button.click(remember, text, out, api_name="remember", concurrency_limit=None)
        button.click(recall, None, out, api_name="recall", concurrency_limit=None)
        button.click(count, number, out, api_name="count", concurrency_limit=None)
    # Gradio's default caps simultaneous events at 40 per process; loads may go past it.
    demo.max_threads = 200
    return demo
