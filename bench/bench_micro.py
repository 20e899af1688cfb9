"""Micro-benchmarks of the two portal hot paths the load benchmarks expose.

Both run in this process (no server), so they isolate one cost each:

- the session lookup that the portal's middleware does for every request (an Gradio event is
  two requests: ``queue/join`` and ``queue/data``): a worker-thread hop plus a SQLite read;
- Gradio's post-processing of one streamed chat update: the chat page's ``send`` event yields
  ``{chatbot: [...]}`` while declaring ten outputs, and Gradio rebuilds every output left out of
  the dict as a new component (``gr.skip()`` is an update); an event whose only output is the
  chatbot post-processes just the chatbot.

Run alone: ``python -m bench.bench_micro``.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import anyio.to_thread

from bench._common import Section, pin_load_generator, scratch_dir, seed_sessions, seed_users, table


def _per_call_ms(work: Any, repeat: int) -> float:
    work()
    started = time.perf_counter()
    for _ in range(repeat):
        work()
    return (time.perf_counter() - started) / repeat * 1000


def session_lookup(data_dir: Path, repeat: int = 2000) -> dict[str, float]:
    from gradio_portal import PortalSettings
    from gradio_portal.sessions import SessionManager, SQLSessionStore
    from gradio_portal.storage import Database

    names = seed_users(data_dir, 1)
    (token,) = seed_sessions(data_dir, names)
    settings = PortalSettings(data_dir=data_dir)
    database = Database(settings.resolved_database_url)
    manager = SessionManager(
        SQLSessionStore(database),
        idle_timeout=settings.session_idle_timeout,
        absolute_timeout=settings.session_absolute_timeout,
    )
    try:
        load_ms = _per_call_ms(lambda: manager.load(token), repeat)

        async def hops() -> float:
            await anyio.to_thread.run_sync(lambda: None)
            started = time.perf_counter()
            for _ in range(repeat):
                await anyio.to_thread.run_sync(lambda: None)
            return (time.perf_counter() - started) / repeat * 1000

        async def loads() -> float:
            await anyio.to_thread.run_sync(manager.load, token)
            started = time.perf_counter()
            for _ in range(repeat):
                await anyio.to_thread.run_sync(manager.load, token)
            return (time.perf_counter() - started) / repeat * 1000

        hop_ms = asyncio.run(hops())
        threaded_ms = asyncio.run(loads())
    finally:
        database.dispose()
    return {"load": load_ms, "hop": hop_ms, "threaded": threaded_ms}


def chat_postprocess(data_dir: Path, repeat: int = 200) -> dict[str, float]:
    import gradio as gr
    from gradio.state_holder import SessionState

    from gradio_portal import PortalSettings
    from gradio_portal.chat import (
        ChatService,
        ConversationRepository,
        EchoBackend,
        build_chat_blocks,
    )
    from gradio_portal.storage import Database, upgrade

    settings = PortalSettings(data_dir=data_dir)
    upgrade(settings.resolved_database_url)
    database = Database(settings.resolved_database_url)
    service = ChatService.from_settings(ConversationRepository(database), EchoBackend(), settings)
    blocks = build_chat_blocks(service)
    send = next(fn for fn in blocks.fns.values() if fn.api_name == "send")
    stream = next(fn for fn in blocks.fns.values() if fn.api_name == "stream_reply")
    chatbot = next(block for block in send.outputs if isinstance(block, gr.Chatbot))
    value = [
        {"role": "user", "content": "hello there"},
        {"role": "assistant", "content": "word " * 200},
    ]

    async def single_reply() -> Any:
        yield []

    with gr.Blocks() as single:
        alone = gr.Chatbot()
        alone.change(single_reply, None, alone)
    single_fn = next(iter(single.fns.values()))

    async def per_update(target: gr.Blocks, fn: Any, prediction: Any) -> float:
        state = SessionState(target)
        await target.postprocess_data(fn, prediction, state)
        started = time.perf_counter()
        for _ in range(repeat):
            await target.postprocess_data(fn, prediction, state)
        return (time.perf_counter() - started) / repeat * 1000

    try:
        return {
            "outputs": float(len(send.outputs)),
            "send": asyncio.run(per_update(blocks, send, {chatbot: value})),
            "single": asyncio.run(per_update(single, single_fn, value)),
            "stream_reply": asyncio.run(per_update(blocks, stream, value)),
        }
    finally:
        database.dispose()


def gradio_speedups(repeat: int = 300) -> dict[str, float]:
    """Gradio's own per-event work with and without the portal's speed-ups (ms per call).

    - the matplotlib probe (``MatplotlibBackendMananger``) around every event call and every
      generator step: without matplotlib installed, each enter and exit is a failed import;
    - a new browser session's configuration (``SessionState``) of the chat page, which calls
      ``Block.get_config`` (and ``inspect.signature``) for every component.
    """
    import importlib.util

    from gradio import utils
    from gradio.state_holder import SessionState

    from gradio_portal.chat.ui import build_chat_blocks
    from gradio_portal.compat import speedups as _gradio_speedups

    page = build_chat_blocks(None)  # type: ignore[arg-type]  # configuration only

    def probe() -> None:
        with utils.MatplotlibBackendMananger():
            pass

    def session() -> None:
        SessionState(page)

    _gradio_speedups.remove()
    try:
        installed = importlib.util.find_spec("matplotlib") is not None
        before = {
            "probe": _per_call_ms(probe, 10 * repeat),
            "session": _per_call_ms(session, repeat),
        }
    finally:
        _gradio_speedups.apply()
    after = {"probe": _per_call_ms(probe, 10 * repeat), "session": _per_call_ms(session, repeat)}
    return {
        "matplotlib_installed": float(installed),
        "probe_before": before["probe"],
        "probe_after": after["probe"],
        "session_before": before["session"],
        "session_after": after["session"],
    }


def run() -> Section:
    began = time.monotonic()
    pin_load_generator()
    with scratch_dir("micro") as tmp:
        lookup = session_lookup(tmp / "sessions")
        post = chat_postprocess(tmp / "chat")
    speedups = gradio_speedups()
    body = "In-process, on the load generator's core; ms per call.\n\n" + table(
        ["portal hot path", "ms per call", "per Gradio event / streamed update"],
        [
            ["`SessionManager.load` (SQLite read), direct", f"{lookup['load']:.3f}", ""],
            ["worker-thread hop alone (`anyio.to_thread.run_sync`)", f"{lookup['hop']:.3f}", ""],
            [
                "session lookup as the middleware does it (hop + read)",
                f"{lookup['threaded']:.3f}",
                f"{2 * lookup['threaded']:.2f} ms per event (join + data)",
            ],
            [
                f"post-process one update yielded as a dict from the chat's `send` event "
                f"({post['outputs']:.0f} outputs, dict with the chatbot only)",
                f"{post['send']:.3f}",
                "",
            ],
            [
                "the same update in an event whose only output is the chatbot",
                f"{post['single']:.3f}",
                f"{post['send'] / post['single']:.0f}x less",
            ],
            [
                "one streamed update of the chat's `stream_reply` event (what the app streams)",
                f"{post['stream_reply']:.3f}",
                f"{post['send'] / post['stream_reply']:.0f}x less than streaming from `send`",
            ],
            [
                "Gradio's matplotlib probe around each event call and each yield "
                + (
                    "(matplotlib installed)"
                    if speedups["matplotlib_installed"]
                    else "(not installed), as Gradio ships"
                ),
                f"{speedups['probe_before']:.3f}",
                "once per event and per streamed update",
            ],
            [
                "the same with the portal's speed-ups (a missing matplotlib marked missing)",
                f"{speedups['probe_after']:.3f}",
                f"{speedups['probe_before'] / speedups['probe_after']:.0f}x less",
            ],
            [
                "a new browser session's configuration of the chat page, as Gradio ships",
                f"{speedups['session_before']:.3f}",
                "once per page load",
            ],
            [
                "the same with the portal's speed-ups (component signatures cached)",
                f"{speedups['session_after']:.3f}",
                f"{speedups['session_before'] / speedups['session_after']:.1f}x less",
            ],
        ],
    )
    return Section(
        title="Micro-benchmarks of the portal's hot paths",
        body=body,
        data={"session": lookup, "postprocess": post, "gradio_speedups": speedups},
        seconds=time.monotonic() - began,
    )


def main() -> None:
    print(run().markdown())


if __name__ == "__main__":
    main()
