"""Answers sent straight from ASGI middleware, where no framework response class is around."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from starlette.types import Message, Send

__all__ = ["hold_response", "send_answer", "send_json"]


async def send_answer(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    """Send a whole response; never cached."""
    headers = [
        *headers,
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def send_json(
    send: Send, status: int, detail: str, *, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Answer ``{"detail": detail}`` with ``status``; never cached."""
    body = json.dumps({"detail": detail}).encode()
    await send_answer(
        send, status, body, [(b"content-type", b"application/json"), *(headers or [])]
    )


def hold_response(send: Send, finish: Callable[[Message, bytes], Awaitable[None]]) -> Send:
    """A ``send`` that holds the response until its body is complete.

    ``finish(start, body)`` then gets the ``http.response.start`` message and the whole body, and
    sends them (changed, or replaced by another answer) itself. For small answers only: a page,
    an upload's list of paths.
    """
    start: Message | None = None
    chunks: list[bytes] = []

    async def sender(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
            return
        if message["type"] != "http.response.body" or start is None:
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body"):
            return
        await finish(start, b"".join(chunks))

    return sender
