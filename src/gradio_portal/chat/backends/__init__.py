"""Chat backends side by side behind one protocol, and `build_backend` to pick one by name."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from gradio_portal import BackendError, ConfigurationError
from gradio_portal.chat.backends.base import (
    ChatBackend,
    ChatMessage,
    ChatRequest,
    ImagePart,
    ModelLister,
    Role,
    available_models,
    bound_history,
)
from gradio_portal.chat.backends.echo import EchoBackend
from gradio_portal.chat.backends.openai import OpenAIBackend

__all__ = [
    "BACKEND_NAMES",
    "BackendError",
    "ChatBackend",
    "ChatMessage",
    "ChatRequest",
    "EchoBackend",
    "ImagePart",
    "ModelLister",
    "OpenAIBackend",
    "Role",
    "available_models",
    "bound_history",
    "build_backend",
]

_BACKENDS: dict[str, Callable[..., ChatBackend]] = {
    EchoBackend.name: EchoBackend,
    OpenAIBackend.name: OpenAIBackend,
}

BACKEND_NAMES: tuple[str, ...] = tuple(sorted(_BACKENDS))
"""The names `build_backend` accepts."""


def build_backend(name: str, **options: Any) -> ChatBackend:
    """Create the backend called `name` with `options` as its constructor arguments.

    Raises :class:`~gradio_portal.ConfigurationError` naming the valid backends, or the
    options the chosen one accepts.

    Example::

        backend = build_backend("echo", tokens_per_second=50)
    """
    factory = _BACKENDS.get(name)
    if factory is None:
        raise ConfigurationError(
            f"Unknown chat backend {name!r}. Valid names: {', '.join(BACKEND_NAMES)}."
        )
    signature = inspect.signature(factory)
    try:
        signature.bind(**options)
    except TypeError as exc:
        accepted = ", ".join(signature.parameters)
        raise ConfigurationError(
            f"Chat backend {name!r} cannot be built with these options ({exc}). "
            f"It accepts: {accepted}."
        ) from None
    return factory(**options)
