"""What every chat backend speaks: messages, requests, the streaming protocol and its error.

A backend turns one `ChatRequest` into a stream of text deltas. Backends are interchangeable
behind the `ChatBackend` protocol, so the chat app never knows which model it talks to.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

__all__ = [
    "ChatBackend",
    "ChatMessage",
    "ChatRequest",
    "Role",
    "bound_history",
]

Role = Literal["user", "assistant", "system"]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One message of a conversation, as a model sees it."""

    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """Everything a backend needs to answer one user turn.

    `history` holds the earlier messages, oldest first, without the new `message`.
    """

    message: str
    history: tuple[ChatMessage, ...] = ()
    user_display_name: str = ""
    system_prompt: str | None = None


class ChatBackend(Protocol):
    """A model that answers a chat turn as a stream of text deltas.

    `stream` is usually an async generator. Consumers close it (``aclose``) when the user stops
    the reply, so implementations release connections in ``finally`` or ``async with`` blocks.
    Every failure a user could meet is raised as `BackendError`.

    Example::

        async for delta in backend.stream(ChatRequest(message="Hi")):
            print(delta, end="")
    """

    name: str

    def stream(self, request: ChatRequest) -> AsyncIterator[str]:
        """Yield the reply to `request` as text deltas, in order."""
        ...


def bound_history(history: Sequence[ChatMessage], budget_chars: int) -> tuple[ChatMessage, ...]:
    """Keep the most recent messages of `history` whose contents together fit `budget_chars`.

    The budget is a hard limit: it exists to keep requests inside the model's context window,
    and a request over it would only fail at the model server. So a latest message that alone
    exceeds the budget is dropped too (the result is then empty); the new user message is not
    part of `history` and is always sent. The kept messages are a contiguous suffix: an older
    short message is never kept after a newer one was dropped, because a conversation with
    holes reads as a different conversation.

    For an app that builds a `ChatRequest` from a history of its own. The reference chat does
    not need it: its repository applies the same rule while reading the stored messages, and
    stops reading at the budget.

    >>> msgs = [ChatMessage("user", "aaaa"), ChatMessage("assistant", "bb")]
    >>> bound_history(msgs, 5)
    (ChatMessage(role='assistant', content='bb'),)
    """
    if budget_chars < 0:
        raise ValueError(f"budget_chars must be 0 or more, not {budget_chars}")
    used = 0
    start = len(history)
    for index in range(len(history) - 1, -1, -1):
        used += len(history[index].content)
        if used > budget_chars:
            break
        start = index
    return tuple(history[start:])
