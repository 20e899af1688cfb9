"""Blocks used by the integration tests: every kind of callback asking for a Context."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import gradio as gr

from gradio_portal import Context


def whoami(ctx: Context) -> str:
    return f"{ctx.user.username}|{ctx.user.display_name}|{','.join(ctx.user.roles)}"


async def whoami_async(ctx: Context) -> str:
    await asyncio.sleep(0)
    return f"async:{ctx.user.username}"


def count_up(limit: float, ctx: Context) -> Iterator[str]:
    for i in range(int(limit)):
        yield f"{ctx.user.username}:{i}"


async def count_up_async(ctx: Context, limit: float) -> AsyncIterator[str]:
    for i in range(int(limit)):
        await asyncio.sleep(0)
        yield f"{ctx.user.username}:{i}"


def mixed(prefix: str, ctx: Context, suffix: str) -> str:
    return f"{prefix}-{ctx.user.username}-{suffix}"


def remember(note: str, ctx: Context) -> str:
    ctx.session["note"] = note
    return "stored"


def recall(ctx: Context) -> str:
    return str(ctx.session.get("note", "<nothing>"))


def page_query(ctx: Context) -> str:
    return f"{ctx.page}|{dict(ctx.query)}"


def get_user_info(request: gr.Request) -> str:
    # The integration note's own pattern, unchanged.
    username = request.request.session.get("username", "Guest")
    return f"Welcome, {username}!"


def chat(message: str, history: list[dict[str, str]], ctx: Context) -> str:
    return f"{ctx.user.username} said {message!r} after {len(history)} messages"


def build_events_app() -> gr.Blocks:
    with gr.Blocks() as demo:
        text = gr.Textbox()
        other = gr.Textbox()
        number = gr.Number()
        out = gr.Textbox()
        button = gr.Button()
        button.click(whoami, None, out, api_name="whoami")
        button.click(whoami_async, None, out, api_name="whoami_async")
        button.click(count_up, number, out, api_name="count_up")
        button.click(count_up_async, number, out, api_name="count_up_async")
        button.click(mixed, [text, other], out, api_name="mixed")
        button.click(remember, text, out, api_name="remember")
        button.click(recall, None, out, api_name="recall")
        button.click(page_query, None, out, api_name="page_query")
        button.click(get_user_info, None, out, api_name="get_user_info")
        gr.ChatInterface(chat, api_name="chat")
    return demo
