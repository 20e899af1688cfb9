"""What every chat backend speaks: messages, requests, the streaming protocol and its error.

A backend turns one `ChatRequest` into a stream of text deltas. Backends are interchangeable
behind the `ChatBackend` protocol, so the chat app never knows which model it talks to.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

__all__ = [
    "ChatBackend",
    "ChatMessage",
    "ChatRequest",
    "ImagePart",
    "ModelLister",
    "Role",
    "available_models",
    "bound_history",
]

Role = Literal["user", "assistant", "system"]


@dataclass(frozen=True, slots=True)
class ImagePart:
    """An image a message carries for the model: its media type (``image/png``) and bytes.

    Its ``repr`` names the size, never the bytes, so a logged request stays short.
    """

    media_type: str
    data: bytes

    def __repr__(self) -> str:
        return f"ImagePart(media_type={self.media_type!r}, size={len(self.data)})"

    @property
    def data_url(self) -> str:
        """The image as a ``data:`` URL (base64), the form OpenAI's ``image_url`` takes."""
        return f"data:{self.media_type};base64,{base64.b64encode(self.data).decode('ascii')}"


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One message of a conversation, as a model sees it: its text, and any images."""

    role: Role
    content: str
    images: tuple[ImagePart, ...] = ()


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """Everything a backend needs to answer one user turn.

    `history` holds the earlier messages, oldest first, without the new `message`; `images`
    go with the new message. `model` picks one of the backend's models for this turn; None
    leaves the backend's own default.
    """

    message: str
    history: tuple[ChatMessage, ...] = ()
    user_display_name: str = ""
    system_prompt: str | None = None
    model: str | None = None
    images: tuple[ImagePart, ...] = ()


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


class ModelLister(Protocol):
    """A backend that can say which models it offers: optional, see :func:`available_models`."""

    async def models(self) -> tuple[str, ...]:
        """The model ids the backend can answer with, sorted; `BackendError` when unknown."""
        ...


async def available_models(backend: object) -> tuple[str, ...]:
    """The models `backend` offers, or ``()`` when it cannot list them (no ``models`` method).

    Listing is optional for a backend, so this helper is how callers ask. A `BackendError`
    from the backend (its model server is unreachable, say) is raised as it is: callers
    usually fall back to the configured model and may show the error's text.

    Example::

        try:
            choices = await available_models(backend) or (settings.openai_model,)
        except BackendError:
            choices = (settings.openai_model,)
    """
    models = getattr(backend, "models", None)
    if models is None:
        return ()
    listed = await models()
    return tuple(str(model) for model in listed)


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
    (ChatMessage(role='assistant', content='bb', images=()),)
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
