"""The portal's Gradio speed-ups change how fast Gradio computes, never what it computes."""

from __future__ import annotations

import asyncio
import inspect
import sys
from collections.abc import Iterator

import gradio as gr
import gradio.blocks
import gradio.component_meta
import pytest
from gradio.state_holder import SessionState

from gradio_portal import Portal
from gradio_portal.chat.ui import build_chat_blocks
from gradio_portal.compat import speedups as _gradio_speedups


@pytest.fixture
def without_speedups() -> Iterator[None]:
    _gradio_speedups.remove()
    try:
        yield
    finally:
        _gradio_speedups.apply()


def _demo() -> gr.Blocks:
    with gr.Blocks() as demo:
        state = gr.State([])
        with gr.Row(visible=False) as row:
            name = gr.Textbox(label="Name", submit_btn=True, max_lines=3)
            choice = gr.Radio(choices=[("a", "1"), ("b", "2")], value="1")
        chat = gr.Chatbot(buttons=["copy"], placeholder="hi")
        note = gr.Markdown("**note**", visible=False)
        go = gr.Button("Go", variant="primary", link="/x")

        def update(text: str, items: list[str]) -> tuple[object, ...]:
            return (
                gr.update(visible=True),
                gr.update(value="", submit_btn=False, stop_btn=True),
                gr.update(choices=[("c", "3")], value="3"),
                [{"role": "user", "content": text}],
                gr.update(value="shown", visible=True),
                gr.update(link="/y", interactive=False),
                [*items, text],
            )

        go.click(update, [name, state], [row, name, choice, chat, note, go, state])
    return demo


def _session_config(demo: gr.Blocks) -> dict[int, object]:
    return SessionState(demo).config_values


def _after_event(demo: gr.Blocks) -> tuple[list[object], dict[int, object]]:
    """What one event sends to the browser, and the session config it leaves behind."""
    fn = next(iter(demo.fns.values()))
    state = SessionState(demo)
    predictions = fn.fn("hello", [])

    async def run() -> list[object]:
        return await demo.postprocess_data(fn, list(predictions), state)

    return asyncio.run(run()), state.config_values


def test_the_speedups_are_applied_once_a_portal_is_created(portal: Portal) -> None:
    assert _gradio_speedups.applied()
    assert isinstance(gradio.blocks.inspect, _gradio_speedups.CachingInspect)
    assert isinstance(gradio.component_meta.inspect, _gradio_speedups.CachingInspect)
    if sys.modules.get("matplotlib", "absent") is None:
        with pytest.raises(ImportError):
            import matplotlib  # noqa: F401


def test_applying_twice_keeps_one_stand_in() -> None:
    _gradio_speedups.apply()
    first = gradio.blocks.inspect
    _gradio_speedups.apply()
    assert gradio.blocks.inspect is first


def test_remove_restores_inspect(without_speedups: None) -> None:
    assert gradio.blocks.inspect is inspect
    assert gradio.component_meta.inspect is inspect
    assert not _gradio_speedups.applied()


def test_config_is_the_same_with_and_without_speedups() -> None:
    demo = _demo()
    chat_page = build_chat_blocks(None)  # type: ignore[arg-type]  # config only
    with_config = demo.get_config_file()
    with_session = _session_config(chat_page)
    with_event = _after_event(demo)
    _gradio_speedups.remove()
    try:
        assert demo.get_config_file() == with_config
        assert _session_config(chat_page) == with_session
        assert _after_event(demo) == with_event
    finally:
        _gradio_speedups.apply()


def test_only_init_functions_are_cached() -> None:
    stand_in = _gradio_speedups.CachingInspect()

    def handler(a: int, b: str = "x") -> None: ...

    assert stand_in.signature(gr.Textbox.__init__) is stand_in.signature(gr.Textbox.__init__)
    assert stand_in.getfullargspec(gr.Button.__init__) is stand_in.getfullargspec(
        gr.Button.__init__
    )
    # Anything else is inspect's own answer, computed each time.
    assert stand_in.signature(handler) == inspect.signature(handler)
    assert stand_in.signature(handler) is not stand_in.signature(handler)
    assert stand_in.signature(gr.Textbox.__init__, follow_wrapped=False) == inspect.signature(
        gr.Textbox.__init__, follow_wrapped=False
    )
    assert stand_in.isfunction is inspect.isfunction


def test_a_new_browser_session_reuses_the_signatures(monkeypatch: pytest.MonkeyPatch) -> None:
    """A session's configuration computes each component class's signature at most once."""
    page = build_chat_blocks(None)  # type: ignore[arg-type]
    SessionState(page)  # fills the cache for these classes
    computed: list[object] = []
    real = inspect.signature

    def counting(obj: object, *args: object, **kwargs: object) -> inspect.Signature:
        computed.append(obj)
        return real(obj, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(inspect, "signature", counting)
    SessionState(page)
    assert computed == []
