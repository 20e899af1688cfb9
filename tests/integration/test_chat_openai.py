"""The chat with the ``openai`` backend against a real OpenAI-compatible server on loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from tests.conftest import PASSWORD
from tests.integration.test_chat_support import (
    MOUNT,
    ChatTab,
    bubbles,
    first_update,
    outputs,
    stored_messages,
)
from tests.support.fake_openai import (
    CHUNKS_BEFORE_FAILURE,
    MIDSTREAM_ERROR_MESSAGE,
    MODEL_ERROR_MIDSTREAM,
    MODEL_OK,
    MODEL_SERVER_ERROR,
    MODEL_SLOW,
    FakeOpenAI,
)

from gradio_portal import Portal, PortalSettings
from gradio_portal.chat import mount_chat
from gradio_portal.testing import LiveServer, login

SYSTEM_PROMPT = "You are terse."


@pytest.fixture(scope="module")
def model_server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(first_token_delay=1.5) as fake:
        yield fake


@pytest.fixture
def chat(
    model_server: FakeOpenAI,
    make_settings: Callable[..., PortalSettings],
    serve: Callable[[Any], LiveServer],
    client_for: Callable[[LiveServer], httpx.Client],
) -> Callable[..., tuple[Portal, ChatTab]]:
    """A chat on the fake model server, configured the way an operator would (settings)."""

    def start(model: str, **overrides: Any) -> tuple[Portal, ChatTab]:
        settings = make_settings(
            chat_backend="openai",
            openai_base_url=model_server.base_url,
            openai_model=model,
            openai_api_key=model_server.api_key,
            chat_system_prompt=SYSTEM_PROMPT,
            **overrides,
        )
        portal = Portal(settings=settings)
        portal.accounts.create("carol", PASSWORD, display_name="Carol")
        mount_chat(portal)
        client = client_for(serve(portal.app))
        assert login(client, "carol", PASSWORD).status_code == 303
        return portal, ChatTab(client)

    return start


def test_the_model_gets_the_system_prompt_and_the_stored_history(
    chat: Callable[..., tuple[Portal, ChatTab]], model_server: FakeOpenAI
) -> None:
    portal, tab = chat(MODEL_OK)
    tab.open()
    tab.send("First question")
    result = tab.send("Second question")

    assert len(result.generating) >= 2
    assert model_server.requests[-1].messages == [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": "First question"},
        {"role": "assistant", "content": model_server.reply},
        {"role": "user", "content": "Second question"},
    ]
    messages = stored_messages(portal, 1)
    assert [(m.role, m.content, m.complete, m.error) for m in messages] == [
        ("user", "First question", True, None),
        ("assistant", model_server.reply, True, None),
        ("user", "Second question", True, None),
        ("assistant", model_server.reply, True, None),
    ]


def test_the_history_sent_is_bounded_by_the_budget(
    chat: Callable[..., tuple[Portal, ChatTab]], model_server: FakeOpenAI
) -> None:
    # The fake's reply is 52 characters: a 60-character budget keeps it and nothing older.
    _, tab = chat(MODEL_OK, chat_history_budget_chars=60)
    tab.open()
    tab.send("An old question that no longer fits")
    tab.send("New question")
    assert [m["content"] for m in model_server.requests[-1].messages] == [
        SYSTEM_PROMPT,
        model_server.reply,
        "New question",
    ]


def test_an_error_mid_stream_is_shown_and_stored_with_the_partial_reply(
    chat: Callable[..., tuple[Portal, ChatTab]], model_server: FakeOpenAI
) -> None:
    portal, tab = chat(MODEL_ERROR_MIDSTREAM)
    tab.open()
    result = tab.send("Hello?")

    assert result.success  # the failure is part of the conversation, not a broken page
    partial = "".join(model_server.chunks[:CHUNKS_BEFORE_FAILURE])
    _, reply = stored_messages(portal, 1)
    assert reply.content == partial and not reply.complete
    assert reply.error is not None and MIDSTREAM_ERROR_MESSAGE.rstrip(".") in reply.error
    assert model_server.api_key not in reply.error
    shown = bubbles(outputs("send", result)["chatbot"])[-1]
    assert shown == ("assistant", f"{partial}\n\n> ⚠️ {reply.error}")
    # The same on a later visit.
    page = ChatTab(tab.client, page=f"{MOUNT}/?c=1").open()
    assert bubbles(page["chatbot"])[-1] == shown


def test_a_server_error_before_any_text_is_a_readable_reply(
    chat: Callable[..., tuple[Portal, ChatTab]],
) -> None:
    portal, tab = chat(MODEL_SERVER_ERROR)
    result = tab.send("Hello?")
    _, reply = stored_messages(portal, 1)
    assert reply.content == "" and not reply.complete
    assert reply.error is not None and "answered 500" in reply.error
    assert bubbles(outputs("send", result)["chatbot"])[-1] == ("assistant", f"> ⚠️ {reply.error}")


def test_a_slow_first_token_still_streams_the_whole_reply(
    chat: Callable[..., tuple[Portal, ChatTab]], model_server: FakeOpenAI
) -> None:
    portal, tab = chat(MODEL_SLOW)
    result = tab.send("Take your time")

    # The user's message is on screen at once; the reply follows after the model's pause.
    first = first_update("send", result)
    assert bubbles(first["chatbot"]) == [("user", "Take your time")]
    assert bubbles(outputs("send", result)["chatbot"])[-1] == ("assistant", model_server.reply)
    _, reply = stored_messages(portal, 1)
    assert reply.content == model_server.reply and reply.complete
