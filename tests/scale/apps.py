"""The Blocks the scale tests and bench/bench_scale.py serve with ``gradio-portal serve``.

Loaded in subprocesses as ``tests.scale.apps:build_events_app`` (or ``:build_chat_app``); the
repository root is on their PYTHONPATH.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import cast

import gradio as gr

from gradio_portal import Context

__all__ = ["build_chat_app", "build_events_app"]

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


def build_chat_app() -> gr.Blocks:
    """The reference chat as ``mount_chat`` builds it, for ``serve TARGET --path /chat``.

    Only used while ``gradio-portal serve`` without TARGET does not serve the chat itself
    (test_scale_chat.py checks); it reads the same settings and the same database.
    """
    from gradio_portal.chat import (
        ChatService,
        ConversationRepository,
        backend_from_settings,
        build_chat_blocks,
    )
    from gradio_portal.settings import PortalSettings
    from gradio_portal.storage import Database

    settings = PortalSettings()
    database = Database(
        settings.resolved_database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
    )
    service = ChatService.from_settings(
        ConversationRepository(database), backend_from_settings(settings), settings
    )
    blocks: gr.Blocks = build_chat_blocks(service, path="/chat")
    limit = settings.chat_concurrency_limit
    blocks.max_threads = max(blocks.max_threads, limit)
    blocks.queue(default_concurrency_limit=limit, max_size=None)
    return blocks
