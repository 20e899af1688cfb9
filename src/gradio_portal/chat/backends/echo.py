"""A deterministic backend with no network: for demos, tests and load benchmarks."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncGenerator

from gradio_portal.chat.backends.base import ChatRequest

__all__ = ["EchoBackend"]

# Padding words for `reply_tokens`; fixed so every run produces the same reply.
_FILLER = ("lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit")


class EchoBackend:
    """Replies "You said: <message>" word by word.

    Each delta is one word followed by a space, except the last, so the joined reply has no
    trailing space. With `reply_tokens=N` the reply is exactly N deltas: cut short, or padded
    with fixed filler words. With `tokens_per_second > 0` delta *i* (from 0) is due
    ``(i + 1) / tokens_per_second`` after the stream starts; the schedule is anchored to that
    start, so event-loop lag delays a token but does not push back all later ones, and N tokens
    take N / tokens_per_second seconds, like a model generating at that rate.

    Example::

        backend = EchoBackend(tokens_per_second=50, reply_tokens=300)  # about 6 s per reply
    """

    name: str = "echo"

    def __init__(self, tokens_per_second: float = 0, reply_tokens: int | None = None) -> None:
        if tokens_per_second < 0:
            raise ValueError(
                f"tokens_per_second must be 0 (no delay) or more, not {tokens_per_second}"
            )
        if reply_tokens is not None and reply_tokens < 0:
            raise ValueError(f"reply_tokens must be 0 or more, not {reply_tokens}")
        self.tokens_per_second = tokens_per_second
        self.reply_tokens = reply_tokens

    def words(self, request: ChatRequest) -> list[str]:
        """The words of the reply to `request`, before spacing and pacing."""
        words = ["You", "said:", *request.message.split()]
        if self.reply_tokens is None:
            return words
        padding = itertools.islice(itertools.cycle(_FILLER), max(0, self.reply_tokens - len(words)))
        return [*words, *padding][: self.reply_tokens]

    async def models(self) -> tuple[str, ...]:
        """The one model this backend is: ``("echo",)``."""
        return (self.name,)

    async def stream(self, request: ChatRequest) -> AsyncGenerator[str, None]:
        """Yield the reply word by word, paced at `tokens_per_second` when it is set."""
        words = self.words(request)
        loop = asyncio.get_running_loop()
        start = loop.time()
        for index, word in enumerate(words):
            if self.tokens_per_second:
                delay = start + (index + 1) / self.tokens_per_second - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            yield word if index == len(words) - 1 else word + " "
