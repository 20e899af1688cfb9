"""Token coalescing: turn a fast stream of deltas into few, cumulative UI updates.

Every streamed update costs the server about 0.5 ms of CPU in Gradio, so one update per token
caps a process at a few dozen users. A ticker carries about four times as many: a producer task
collects tokens while the consumer yields what has accumulated and then sleeps one interval.
The simpler "yield if `interval` has passed since the last yield" collapses under load, because
event-loop lag makes that check pass on every token (see GRADIO.md, "Streaming at scale").
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Callable

__all__ = ["coalesce"]


class _Pending:
    """What the producer has collected so far, shared with the consumer on one event loop."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.done = False
        self.error: BaseException | None = None
        self.arrived = asyncio.Event()


async def coalesce(
    source: AsyncIterator[str], interval: float | Callable[[], float] = 0.1
) -> AsyncGenerator[str, None]:
    """Yield the text of `source` so far (cumulative), at most about once per `interval` seconds.

    `interval` is a number of seconds, or a function asked for it after every yield (so a
    caller can space updates out while the process is busy). The first token goes out at
    once; after each yield the generator sleeps the interval, then
    yields whatever accumulated (or, after a quiet spell, the next token as soon as it comes).
    Every yield is strictly longer than the one before, and the last one is the full text; a
    source that produces no text yields nothing. If `source` raises, the text that arrived
    but was not yet yielded is yielded first, then the same exception is raised, so a caller
    can show and store a partial reply. Closing or cancelling this generator (the user pressed
    stop) cancels the producer and closes `source`; no task outlives it. Use
    ``contextlib.aclosing`` when you may stop iterating early, so that happens at once rather
    than at garbage collection.

    Example::

        async with contextlib.aclosing(coalesce(backend.stream(request))) as updates:
            async for text in updates:
                yield text  # a Gradio generator handler
    """
    next_interval = interval if callable(interval) else (lambda: interval)
    if not callable(interval) and interval < 0:
        raise ValueError(f"interval must be 0 or more seconds, not {interval}")
    pending = _Pending()
    producer = asyncio.create_task(_produce(source, pending))
    sent = 0
    try:
        while True:
            await pending.arrived.wait()
            pending.arrived.clear()
            # Read `done` before the text: the producer appends its last token before it
            # sets `done`, so a finished producer's text is complete here.
            done = pending.done
            text = "".join(pending.parts)
            if len(text) > sent:
                pending.parts = [text]
                sent = len(text)
                yield text
            if done:
                break
            await asyncio.sleep(max(0.0, next_interval()))
        if pending.error is not None:
            raise pending.error
    finally:
        producer.cancel()
        # wait() rather than awaiting the task: a cancellation of this generator's own task
        # must still propagate, and the producer never ends with an exception to retrieve.
        await asyncio.wait([producer])
        # The producer closes the source itself (an async generator must be closed in the task
        # that iterated it); this covers a producer cancelled before it ever ran.
        await _close(source)


async def _produce(source: AsyncIterator[str], pending: _Pending) -> None:
    try:
        try:
            async for token in source:
                if token:
                    pending.parts.append(token)
                    pending.arrived.set()
        finally:
            await _close(source)
    except Exception as exc:
        pending.error = exc
    finally:
        pending.done = True
        pending.arrived.set()


async def _close(source: AsyncIterator[str]) -> None:
    aclose = getattr(source, "aclose", None)
    if aclose is not None:
        await aclose()
