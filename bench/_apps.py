"""The apps under test, built inside a server subprocess by ``bench._serve``.

Each factory takes the data directory and an options dict and returns an ASGI app that also
answers ``GET /bench-ready``. The ``bare_*`` apps are ORIGIN.md's pattern: FastAPI, Starlette's
cookie ``SessionMiddleware``, ``gr.mount_gradio_app`` and ``request.request.session`` in the
callback, with a tiny ``/login?username=`` route that sets the cookie session. The ``portal_*``
apps are the same Blocks behind :class:`gradio_portal.Portal`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import gradio as gr
from fastapi import FastAPI, Request
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import JSONResponse, PlainTextResponse

from gradio_portal import Context, Portal, PortalSettings, Redirect
from gradio_portal.chat.backends import ChatRequest, EchoBackend
from gradio_portal.chat.coalesce import coalesce

MOUNT = "/app"
CHAT_MOUNT = "/chat"
BARE_SECRET = "bench-only secret key, loopback benchmarks " * 2
NAV_JS = (
    "() => { const n = Number(new URLSearchParams(window.location.search).get('n') || 0) + 1; "
    f"window.location.href = '{MOUNT}/?n=' + n; }}"
)


def _ready(app: FastAPI) -> FastAPI:
    async def ready() -> PlainTextResponse:
        return PlainTextResponse("ok")

    app.add_api_route("/bench-ready", ready, methods=["GET"], include_in_schema=False)
    return app


def _portal(data_dir: Path, **settings: Any) -> Portal:
    return Portal(settings=PortalSettings(data_dir=data_dir, **settings))


def _bare_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(SessionMiddleware, secret_key=BARE_SECRET)

    async def login(request: Request, username: str) -> JSONResponse:
        request.session["username"] = username
        return JSONResponse({"ok": True})

    async def logout(request: Request) -> JSONResponse:
        request.session.clear()
        return JSONResponse({"ok": True})

    app.add_api_route("/login", login, methods=["GET"])
    app.add_api_route("/logout", logout, methods=["GET"])
    return app


# -- 1. per-event overhead, 3. memory --------------------------------------------------------


def portal_greet(ctx: Context) -> str:
    return f"Hello {ctx.user.display_name}"


def bare_greet(request: gr.Request) -> str:
    # ORIGIN.md's pattern, verbatim.
    username = request.request.session.get("username", "Guest")  # type: ignore[union-attr]
    return f"Hello {username}"


def _greeting_blocks(fn: Any) -> gr.Blocks:
    demo = gr.Blocks()
    with demo:
        out = gr.Textbox(label="greeting")
        button = gr.Button("Greet")
        button.click(fn, None, out, api_name="greet")
    return demo


def portal_events(data_dir: Path, options: dict[str, Any]) -> FastAPI:
    portal = _portal(data_dir)
    portal.mount(_greeting_blocks(portal_greet), MOUNT)
    return _ready(portal.app)


def bare_events(data_dir: Path, options: dict[str, Any]) -> FastAPI:
    app = _bare_app()
    gr.mount_gradio_app(app, _greeting_blocks(bare_greet), MOUNT, ssr_mode=False)
    return _ready(app)


# -- 2. chat load ----------------------------------------------------------------------------


def _echo(options: dict[str, Any]) -> EchoBackend:
    return EchoBackend(
        tokens_per_second=float(options.get("tokens_per_second", 50)),
        reply_tokens=int(options.get("reply_tokens", 300)),
    )


def raise_max_threads(demo: gr.Blocks, count: int) -> None:
    """Let ``count`` events run at once.

    ``max_threads`` alone is not enough: the Blocks built its queue when the ``with`` block
    closed, with 40 active-job slots, and only ``launch()`` resizes it. Building the queue
    again (as ``mount_chat`` does) sizes the slots from the new value.
    """
    demo.max_threads = count
    demo.queue(max_size=None)


def bare_chat(data_dir: Path, options: dict[str, Any]) -> FastAPI:
    """A bare ChatInterface streaming the echo backend, one yield per token.

    ``concurrency_limit=None`` is the one setting every multi-user Gradio chat needs (the
    default is one event at a time); ``max_threads`` stays at Gradio's 40 unless given.
    """
    backend = _echo(options)

    async def respond(message: str, history: list[dict[str, Any]]) -> AsyncIterator[str]:
        text = ""
        async for token in backend.stream(ChatRequest(message=message)):
            text += token
            yield text

    with gr.Blocks() as demo:
        gr.ChatInterface(respond, concurrency_limit=None)
    if options.get("max_threads"):
        raise_max_threads(demo, int(options["max_threads"]))
    app = _bare_app()
    gr.mount_gradio_app(app, demo, CHAT_MOUNT, ssr_mode=False)
    return _ready(app)


def portal_chat(data_dir: Path, options: dict[str, Any]) -> FastAPI:
    """The portal's chat app (``mount_chat``); with ``chat_interface``, a plain ChatInterface.

    The ChatInterface is the smallest chat a portal user could mount: a Context parameter,
    the echo backend through ``coalesce``, no database, no concurrency limit and
    ``max_threads`` raised to the chat limit. Beside the chat app it shows what the chat
    page's own work (storing messages, the sidebar, the URL) costs.
    """
    settings: dict[str, Any] = {
        "chat_backend": "echo",
        "chat_echo_tokens_per_second": float(options.get("tokens_per_second", 50)),
        "chat_echo_reply_tokens": int(options.get("reply_tokens", 300)),
    }
    # Unless a run asks otherwise, the chat streams as the settings' defaults say.
    for setting, option in (("chat_stream_interval", "interval"), ("chat_stream_budget", "budget")):
        if option in options:
            settings[setting] = float(options[option])
    portal = _portal(data_dir, **settings)
    if not options.get("chat_interface"):
        from gradio_portal.chat import mount_chat

        mount_chat(portal, path=CHAT_MOUNT)
        return _ready(portal.app)
    backend = _echo(options)
    interval = portal.settings.chat_stream_interval

    async def respond(
        message: str, history: list[dict[str, Any]], ctx: Context
    ) -> AsyncIterator[str]:
        request = ChatRequest(message=message, user_display_name=ctx.user.display_name)
        async with contextlib.aclosing(coalesce(backend.stream(request), interval)) as updates:
            async for text in updates:
                yield text

    with gr.Blocks() as demo:
        gr.ChatInterface(respond, concurrency_limit=None)
    raise_max_threads(demo, portal.settings.chat_concurrency_limit)
    portal.mount(demo, CHAT_MOUNT)
    return _ready(portal.app)


# -- 4. navigation ---------------------------------------------------------------------------


INJECTED = cast(Context, None)  # the portal fills it in; the default tells Gradio "no input"


def portal_go(ctx: Context = INJECTED) -> Redirect:
    n = int(ctx.query.get("n", "0") or 0) + 1
    return Redirect(f"{MOUNT}/?n={n}")


def ping() -> str:
    # A new value every time, so the page can tell this round trip's answer from the last.
    return f"pong {time.monotonic_ns()}"


def _navigation_blocks(go: Any) -> gr.Blocks:
    demo = gr.Blocks()
    with demo:
        out = gr.Textbox(label="out", elem_id="out")
        go_button = gr.Button("Go", elem_id="go")
        ping_button = gr.Button("Ping", elem_id="ping")
        if go is None:
            go_button.click(None, None, None, js=NAV_JS)
        else:
            go_button.click(go, None, None, api_name="go")
        ping_button.click(ping, None, out, api_name="ping")
    return demo


def portal_navigation(data_dir: Path, options: dict[str, Any]) -> FastAPI:
    portal = _portal(data_dir)
    portal.mount(_navigation_blocks(portal_go), MOUNT)
    if options.get("drop_csp"):
        # Only when the page's own policy blocks the portal's head script (see the report).
        portal.app.user_middleware[:] = [
            m
            for m in portal.app.user_middleware
            if getattr(m.cls, "__name__", "") != "GradioHeaders"
        ]
    return _ready(portal.app)


def bare_navigation(data_dir: Path, options: dict[str, Any]) -> FastAPI:
    app = _bare_app()
    gr.mount_gradio_app(app, _navigation_blocks(None), MOUNT, ssr_mode=False)
    return _ready(app)
