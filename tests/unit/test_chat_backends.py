"""Chat backend building blocks: messages, history bounds, the echo backend, the registry."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import time
from collections.abc import AsyncIterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradio_portal import PortalError
from gradio_portal.chat.backends import (
    BACKEND_NAMES,
    BackendError,
    ChatBackend,
    ChatMessage,
    ChatRequest,
    EchoBackend,
    ImagePart,
    OpenAIBackend,
    Role,
    available_models,
    bound_history,
    build_backend,
)


def replies(backend: ChatBackend, message: str) -> list[str]:
    async def collect() -> list[str]:
        return [delta async for delta in backend.stream(ChatRequest(message=message))]

    return asyncio.run(collect())


def test_messages_and_requests_are_frozen() -> None:
    message = ChatMessage("user", "hi")
    request = ChatRequest(message="hi", history=(message,))
    with pytest.raises(dataclasses.FrozenInstanceError):
        message.content = "changed"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.message = "changed"  # type: ignore[misc]
    assert request.system_prompt is None
    assert request.user_display_name == ""


def test_backend_error_is_a_portal_error_with_a_readable_message() -> None:
    error = BackendError("The model server is down. Try again later.")
    assert isinstance(error, PortalError)
    assert str(error) == "The model server is down. Try again later."


# --- bound_history -------------------------------------------------------------------------


def history(*contents: str) -> tuple[ChatMessage, ...]:
    roles: tuple[Role, Role] = ("user", "assistant")
    return tuple(ChatMessage(roles[i % 2], text) for i, text in enumerate(contents))


def test_bound_history_keeps_the_most_recent_messages_that_fit() -> None:
    msgs = history("aaaa", "bbb", "cc", "d")
    assert bound_history(msgs, 6) == msgs[1:]
    assert bound_history(msgs, 5) == msgs[2:]
    assert bound_history(msgs, 100) == msgs
    assert bound_history(msgs, 0) == ()


def test_bound_history_drops_a_latest_message_over_the_budget() -> None:
    assert bound_history(history("short", "far too long for the budget"), 10) == ()


def test_bound_history_leaves_no_holes() -> None:
    # "x" would fit after dropping the long middle message, but the result must stay contiguous.
    msgs = history("x", "a long middle message", "end")
    assert bound_history(msgs, 5) == msgs[2:]


def test_bound_history_rejects_a_negative_budget() -> None:
    with pytest.raises(ValueError, match="budget_chars"):
        bound_history(history("a"), -1)


@given(st.lists(st.text(max_size=20), max_size=30), st.integers(min_value=0, max_value=200))
def test_bound_history_returns_the_longest_suffix_within_budget(
    contents: list[str], budget: int
) -> None:
    msgs = history(*contents)
    kept = bound_history(msgs, budget)
    assert kept == msgs[len(msgs) - len(kept) :]
    assert sum(len(m.content) for m in kept) <= budget
    if len(kept) < len(msgs):
        one_more = msgs[len(msgs) - len(kept) - 1 :]
        assert sum(len(m.content) for m in one_more) > budget


# --- EchoBackend ---------------------------------------------------------------------------


def test_echo_streams_word_by_word() -> None:
    deltas = replies(EchoBackend(), "hello  big world")
    assert deltas == ["You ", "said: ", "hello ", "big ", "world"]
    assert "".join(deltas) == "You said: hello big world"


def test_echo_of_an_empty_message() -> None:
    assert "".join(replies(EchoBackend(), "   ")) == "You said:"


def test_echo_pads_to_exactly_reply_tokens() -> None:
    deltas = replies(EchoBackend(reply_tokens=12), "hi")
    assert len(deltas) == 12
    assert deltas[:3] == ["You ", "said: ", "hi "]
    assert not deltas[-1].endswith(" ")
    assert deltas == replies(EchoBackend(reply_tokens=12), "hi")  # deterministic


def test_echo_cuts_to_reply_tokens() -> None:
    assert replies(EchoBackend(reply_tokens=3), "one two three four") == ["You ", "said: ", "one"]
    assert replies(EchoBackend(reply_tokens=0), "anything") == []


def test_echo_paces_tokens_per_second() -> None:
    started = time.monotonic()
    deltas = replies(EchoBackend(tokens_per_second=100, reply_tokens=20), "x")
    assert len(deltas) == 20
    assert time.monotonic() - started >= 20 / 100 - 0.01


def test_echo_schedule_does_not_accumulate_lag() -> None:
    # The consumer blocks the event loop for 0.3 s on the first token. With a schedule
    # anchored to the start, the 10 tokens at 20/s still end near 0.5 s, not 0.8 s.
    async def slow_consumer() -> float:
        started = time.monotonic()
        backend = EchoBackend(tokens_per_second=20, reply_tokens=10)
        async for index, _ in aenumerate(backend.stream(ChatRequest(message="x"))):
            if index == 0:
                time.sleep(0.3)
        return time.monotonic() - started

    elapsed = asyncio.run(slow_consumer())
    assert 0.49 <= elapsed < 0.7


async def aenumerate(stream: AsyncIterator[str]) -> AsyncIterator[tuple[int, str]]:
    index = 0
    async for item in stream:
        yield index, item
        index += 1


@pytest.mark.parametrize(
    ("options", "match"),
    [({"tokens_per_second": -1}, "tokens_per_second"), ({"reply_tokens": -1}, "reply_tokens")],
)
def test_echo_rejects_negative_settings(options: dict[str, float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        EchoBackend(**options)  # type: ignore[arg-type]


# --- OpenAIBackend construction ------------------------------------------------------------


def test_openai_backend_rejects_a_url_without_scheme() -> None:
    with pytest.raises(ValueError, match="GRADIO_PORTAL_OPENAI_BASE_URL"):
        OpenAIBackend("localhost:8000/v1", "m", None)


def test_openai_backend_repr_hides_key_and_credentials() -> None:
    backend = OpenAIBackend("https://me:pw@api.example/v1?k=1", "m", "sk-secret")
    assert repr(backend) == "OpenAIBackend(base_url='https://api.example/v1', model='m')"


# --- build_backend -------------------------------------------------------------------------


def test_build_backend_by_name() -> None:
    echo = build_backend("echo", reply_tokens=4)
    assert isinstance(echo, EchoBackend)
    assert echo.name == "echo"
    assert len(replies(echo, "hi")) == 4
    openai = build_backend("openai", base_url="http://127.0.0.1:1/v1", model="m", api_key=None)
    assert isinstance(openai, OpenAIBackend)
    assert openai.name == "openai"
    assert BACKEND_NAMES == ("echo", "openai")


def test_build_backend_unknown_name_lists_valid_names() -> None:
    with pytest.raises(ValueError, match=r"Unknown chat backend 'gpt'\. Valid names: echo, openai"):
        build_backend("gpt")


def test_build_backend_bad_option_lists_accepted_options() -> None:
    with pytest.raises(ValueError, match="It accepts: tokens_per_second, reply_tokens"):
        build_backend("echo", speed=3)
    with pytest.raises(ValueError, match="base_url, model, api_key, timeout, client"):
        build_backend("openai", model="m")


def test_old_constructor_calls_still_work_and_images_default_to_none() -> None:
    message = ChatMessage("user", "hi")
    request = ChatRequest("hi", (message,), "Ada", "Be brief.")
    assert message.images == () and request.images == ()
    assert request.model is None


def test_an_image_part_shows_its_size_not_its_bytes() -> None:
    image = ImagePart("image/png", b"\x89PNG\r\n\x1a\n" + b"x" * 100)
    assert repr(image) == "ImagePart(media_type='image/png', size=108)"
    assert image.data_url == "data:image/png;base64," + base64.b64encode(image.data).decode()
    with pytest.raises(dataclasses.FrozenInstanceError):
        image.data = b""  # type: ignore[misc]


def test_the_echo_backend_lists_itself() -> None:
    assert asyncio.run(EchoBackend().models()) == ("echo",)
    assert asyncio.run(available_models(EchoBackend())) == ("echo",)


def test_a_backend_without_a_model_list_offers_none() -> None:
    class Plain:
        name = "plain"

        async def stream(self, request: ChatRequest) -> AsyncIterator[str]:
            yield request.message

    assert asyncio.run(available_models(Plain())) == ()


def test_a_listing_error_reaches_the_caller() -> None:
    class Down:
        name = "down"

        async def models(self) -> tuple[str, ...]:
            raise BackendError("The model server is down.")

    with pytest.raises(BackendError, match="down"):
        asyncio.run(available_models(Down()))
