"""coalesce: cumulative, coalesced updates; errors after partial text; clean stops."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradio_portal.chat.coalesce import coalesce

T = TypeVar("T")


def run(scenario: Callable[[], Awaitable[T]]) -> T:
    """Run `scenario` in a fresh loop and check it left no task behind."""

    async def checked() -> T:
        result = await scenario()
        assert asyncio.all_tasks() == {asyncio.current_task()}, "a task outlived coalesce"
        return result

    return asyncio.run(checked())


async def tokens(items: Iterable[str]) -> AsyncIterator[str]:
    for item in items:
        await asyncio.sleep(0)
        yield item


async def collect(source: AsyncIterator[str], interval: float = 0.0) -> list[str]:
    return [text async for text in coalesce(source, interval)]


class Recorder:
    """A source whose lifecycle the tests can watch and steer."""

    def __init__(self, first: Iterable[str] = ("a",)) -> None:
        self.first = list(first)
        self.release = asyncio.Event()
        self.closed = False
        self.started_in: asyncio.Task[object] | None = None
        self.closed_in: asyncio.Task[object] | None = None

    async def stream(self) -> AsyncIterator[str]:
        self.started_in = asyncio.current_task()
        try:
            for item in self.first:
                yield item
            await self.release.wait()  # a slow model: nothing more until released
            yield "late"
        finally:
            self.closed = True
            self.closed_in = asyncio.current_task()


@given(st.lists(st.text(max_size=5), max_size=40))
@settings(deadline=None)
def test_yields_growing_cumulative_text_ending_with_the_full_text(parts: list[str]) -> None:
    updates = run(lambda: collect(tokens(parts)))
    full = "".join(parts)
    if full:
        assert updates[-1] == full
    else:
        assert updates == []
    for before, after in itertools.pairwise(updates):
        assert after.startswith(before)
        assert len(after) > len(before)


def test_first_token_goes_out_without_waiting_for_more() -> None:
    async def scenario() -> str:
        source = Recorder(first=["Hel", "lo"])
        updates = coalesce(source.stream(), interval=60)
        async with contextlib.aclosing(updates):
            first = await asyncio.wait_for(anext(updates), timeout=5)
        assert source.closed
        return first

    # The source's second token may or may not have arrived yet; nothing waits for the rest.
    assert run(scenario) in ("Hel", "Hello")


def test_fast_source_gives_far_fewer_updates_than_tokens() -> None:
    parts = [f"t{i} " for i in range(2000)]
    updates = run(lambda: collect(tokens(parts), interval=0.05))
    assert updates[-1] == "".join(parts)
    assert len(updates) < len(parts) / 20


def test_source_error_comes_after_the_pending_text() -> None:
    async def failing() -> AsyncIterator[str]:
        yield "par"
        await asyncio.sleep(0)
        yield "tial"
        raise RuntimeError("model crashed")

    async def scenario() -> list[str]:
        updates: list[str] = []
        with pytest.raises(RuntimeError, match="model crashed"):
            async for text in coalesce(failing(), interval=0.01):
                updates.append(text)
        return updates

    assert run(scenario)[-1] == "partial"


def test_error_before_any_text_is_raised_at_once() -> None:
    async def failing() -> AsyncIterator[str]:
        raise ConnectionError("no model")
        yield ""  # pragma: no cover - makes this an async generator

    async def scenario() -> None:
        with pytest.raises(ConnectionError, match="no model"):
            await collect(failing())

    run(scenario)


def test_closing_the_consumer_closes_the_source_in_its_own_task() -> None:
    async def scenario() -> Recorder:
        source = Recorder()
        updates = coalesce(source.stream(), interval=0.01)
        assert await anext(updates) == "a"
        await updates.aclose()  # the user pressed stop while the model was thinking
        return source

    source = run(scenario)
    assert source.closed
    assert source.closed_in is source.started_in is not None


def test_cancelling_the_consumer_task_closes_the_source() -> None:
    async def scenario() -> Recorder:
        source = Recorder()
        first = asyncio.Event()

        async def consume() -> None:
            async for _ in coalesce(source.stream(), interval=0.01):
                first.set()

        task = asyncio.create_task(consume())
        await first.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return source

    assert run(scenario).closed


def test_breaking_out_inside_aclosing_closes_the_source() -> None:
    async def scenario() -> Recorder:
        source = Recorder()
        async with contextlib.aclosing(coalesce(source.stream(), interval=0.01)) as updates:
            async for _ in updates:
                break
        return source

    assert run(scenario).closed


def test_a_plain_async_iterator_works_as_source() -> None:
    class Countdown:
        def __init__(self) -> None:
            self.left = 3

        def __aiter__(self) -> Countdown:
            return self

        async def __anext__(self) -> str:
            if not self.left:
                raise StopAsyncIteration
            self.left -= 1
            return str(self.left)

    assert run(lambda: collect(Countdown()))[-1] == "210"


def test_slow_source_is_followed_as_it_goes() -> None:
    async def scenario() -> list[str]:
        source = Recorder(first=["a", "b"])
        seen: list[str] = []
        async for text in coalesce(source.stream(), interval=0):
            seen.append(text)
            if text == "ab":
                source.release.set()
        return seen

    assert run(scenario)[-2:] == ["ab", "ablate"]


def test_negative_interval_is_rejected() -> None:
    with pytest.raises(ValueError, match="interval"):
        run(lambda: collect(tokens(["x"]), interval=-1))


def test_the_interval_may_be_asked_for_after_every_update() -> None:
    asked: list[int] = []

    def interval() -> float:
        asked.append(1)
        return 0.0

    async def scenario() -> list[str]:
        async def slow() -> AsyncIterator[str]:
            for word in ("a", "b", "c"):
                await asyncio.sleep(0.01)
                yield word

        return [text async for text in coalesce(slow(), interval)]

    updates = run(scenario)
    assert updates[-1] == "abc"
    assert len(asked) == len(updates) - 1 or len(asked) == len(updates)
