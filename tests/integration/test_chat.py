"""The chat over real HTTP and Gradio's browser protocol: streaming, storage, stop, isolation."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from tests.conftest import PASSWORD
from tests.integration.test_chat_support import (
    MOUNT,
    ChatTab,
    bubbles,
    first_update,
    navigation,
    outputs,
    snapshot,
    stored_messages,
    wait_for,
)

from gradio_portal import Portal, PortalSettings
from gradio_portal.chat import mount_chat
from gradio_portal.chat.backends import ChatRequest, EchoBackend
from gradio_portal.chat.service import STOPPED
from gradio_portal.chat.ui import NOT_FOUND
from gradio_portal.testing import LiveServer

Client = Callable[[str], httpx.Client]


@pytest.fixture
def settings(make_settings: Callable[..., PortalSettings]) -> PortalSettings:
    # A short reply in about 0.3 s, streamed in 50 ms ticks: several updates, quick tests.
    return make_settings(
        chat_echo_tokens_per_second=100, chat_echo_reply_tokens=30, chat_stream_interval=0.05
    )


@pytest.fixture
def server(portal: Portal, serve: Callable[[Any], LiveServer]) -> LiveServer:
    mount_chat(portal)
    return serve(portal.app)


@pytest.fixture
def signed_in(server: LiveServer, signed_in_client: Callable[..., httpx.Client]) -> Client:
    def make(username: str) -> httpx.Client:
        return signed_in_client(server, username, PASSWORD)

    return make


def echo_reply(settings: PortalSettings, message: str) -> str:
    backend = EchoBackend(reply_tokens=settings.chat_echo_reply_tokens)
    return " ".join(backend.words(ChatRequest(message=message)))


def test_a_message_streams_a_reply_that_is_stored(
    portal: Portal, settings: PortalSettings, signed_in: Client
) -> None:
    tab = ChatTab(signed_in("alice"))
    page = tab.open()
    assert page["chatbot"] == [] and page["page_query"] == ""
    assert page["signed_in"] == (
        "Signed in as **Alice Liddell**\n\n"
        "[Account](/account/sessions) · [Password](/account/password) · "
        "[Access tokens](/account/tokens)"
    )

    result = tab.send("Hello there")

    assert len(result.generating) >= 3  # the reply arrived in several updates
    sent = outputs("send", result)
    reply = echo_reply(settings, "Hello there")
    assert bubbles(sent["chatbot"]) == [("user", "Hello there"), ("assistant", reply)]
    [conversation], messages = snapshot(portal)
    _, owner, title = conversation[:3]
    assert owner == portal.accounts.get("alice").user.id
    assert title == "Hello there"
    assert [(m[2], m[3], m[4], m[5]) for m in messages] == [
        ("user", "Hello there", True, None),
        ("assistant", reply, True, None),
    ]


def test_the_first_message_gives_the_page_its_url_and_the_next_ones_follow(
    portal: Portal, signed_in: Client
) -> None:
    tab = ChatTab(signed_in("alice"))
    tab.open()
    first = first_update("send", tab.send("First"))
    [(conversation_id, *_)], _ = snapshot(portal)
    assert first["page_query"] == f"?c={conversation_id}"
    assert first["conversations"]["choices"] == [["First", str(conversation_id)]]
    assert first["conversations"]["value"] == str(conversation_id)

    tab.send("Second")  # same tab: the server-side state keeps the conversation

    conversations, messages = snapshot(portal)
    assert len(conversations) == 1
    assert [m[2:4] for m in messages][::2] == [("user", "First"), ("user", "Second")]


def test_the_page_shows_the_thumbs_stored_for_each_reply(signed_in: Client) -> None:
    alice = signed_in("alice")
    ajax = {"x-requested-with": "XMLHttpRequest"}
    first = alice.post("/api/conversations", json={"message": "One"}, headers=ajax).json()
    conversation_id = first["id"]
    second = alice.post(
        f"/api/conversations/{conversation_id}/messages", json={"message": "Two"}, headers=ajax
    ).json()
    for reply, rating in ((first["reply"], "down"), (second["reply"], "up")):
        url = f"/api/conversations/{conversation_id}/messages/{reply['id']}/feedback"
        assert alice.put(url, json={"rating": rating}, headers=ajax).status_code == 200

    tab = ChatTab(alice, page=f"{MOUNT}/?c={conversation_id}")
    assert tab.open()["feedback_value"] == ["Dislike", "Like"]
    # The reply answered again starts unrated; the earlier one keeps its thumb.
    again = outputs("regenerate", tab.call("regenerate", [None, None]))
    assert again["feedback_value"] == ["Dislike"]
    assert tab.call("stream_reply", [None]).success
    assert ChatTab(alice, page=f"{MOUNT}/?c={conversation_id}").open()["feedback_value"] == [
        "Dislike",
        None,
    ]


def test_history_comes_back_on_a_new_page_load(
    portal: Portal, settings: PortalSettings, signed_in: Client
) -> None:
    alice = signed_in("alice")
    first_tab = ChatTab(alice)
    first_tab.open()
    first_tab.send("Remember me")
    [(conversation_id, *_)], _ = snapshot(portal)

    page = ChatTab(alice, page=f"{MOUNT}/?c={conversation_id}").open()

    assert bubbles(page["chatbot"]) == [
        ("user", "Remember me"),
        ("assistant", echo_reply(settings, "Remember me")),
    ]
    assert page["page_query"] == f"?c={conversation_id}"
    assert page["title"] == "Remember me"
    assert page["bar"]["visible"] is True
    assert page["export"]["link"] == f"/api/conversations/{conversation_id}/export.md"
    assert page["notice"]["visible"] is False


@pytest.mark.parametrize(
    "raw", ["abc", "0", "-1", "1e3", "%201", "%EF%BC%91", "99999999999999999999999", "", "1;x"]
)
def test_a_malformed_conversation_id_shows_a_new_chat(signed_in: Client, raw: str) -> None:
    page = ChatTab(signed_in("alice"), page=f"{MOUNT}/?c={raw}").open()
    assert page["chatbot"] == []
    assert page["page_query"] == ""  # the browser script then cleans the address bar
    assert page["notice"] == {"__type__": "update", "value": NOT_FOUND, "visible": True}


def test_another_users_conversation_id_gets_nothing_and_changes_nothing(
    portal: Portal, signed_in: Client
) -> None:
    alice_tab = ChatTab(signed_in("alice"))
    alice_tab.open()
    alice_tab.send("Alice's secret plans")
    [(alice_conversation, *_)], _ = snapshot(portal)
    before = snapshot(portal)
    bob = signed_in("bob")

    # The page URL names Alice's conversation: Bob sees the same as for a missing one.
    foreign = ChatTab(bob, page=f"{MOUNT}/?c={alice_conversation}")
    page = foreign.open()
    missing = ChatTab(bob, page=f"{MOUNT}/?c=999").open()
    assert page == missing
    assert page["chatbot"] == [] and page["title"] == "" and page["conversations"]["choices"] == []
    assert "secret" not in str(page)

    # Rename and delete from that page have no conversation to act on.
    assert foreign.call("rename", ["Bob was here", None]).success
    assert navigation(foreign.call("delete", [None]))["url"] == "/chat/"
    # The sidebar only offers Bob's own conversations: Gradio refuses any other value.
    assert not foreign.call("open_conversation", [str(alice_conversation)]).success
    assert snapshot(portal) == before

    # Sending from that page starts Bob's own conversation.
    sent = outputs("send", foreign.send("Bob's message"))
    assert bubbles(sent["chatbot"])[0] == ("user", "Bob's message")
    conversations, messages = snapshot(portal)
    assert conversations[0] == before[0][0]
    assert messages[: len(before[1])] == before[1]
    bob_id = portal.accounts.get("bob").user.id
    assert [c[1] for c in conversations[1:]] == [bob_id]
    assert all(m[1] != alice_conversation for m in messages[len(before[1]) :])


def test_rename_changes_the_title_in_the_page_and_the_database(
    portal: Portal, signed_in: Client
) -> None:
    alice = signed_in("alice")
    ChatTab(alice).send("Original title")
    [(conversation_id, *_)], _ = snapshot(portal)
    tab = ChatTab(alice, page=f"{MOUNT}/?c={conversation_id}")
    tab.open()

    renamed = outputs("rename", tab.call("rename", ["  Trip\nto   Lisbon  ", None]))

    assert renamed["title"] == "Trip to Lisbon"
    assert renamed["conversations"]["choices"] == [["Trip to Lisbon", str(conversation_id)]]
    assert snapshot(portal)[0][0][2] == "Trip to Lisbon"
    refused = tab.call("rename", ["   ", None])
    assert refused.error is not None and "cannot be empty" in refused.error
    assert snapshot(portal)[0][0][2] == "Trip to Lisbon"


def test_delete_removes_the_conversation_and_leaves_its_page(
    portal: Portal, signed_in: Client
) -> None:
    alice = signed_in("alice")
    ChatTab(alice).send("Delete me")
    ChatTab(alice).send("Keep me")
    (doomed, *_), (kept, *_) = snapshot(portal)[0]
    tab = ChatTab(alice, page=f"{MOUNT}/?c={doomed}")
    tab.open()

    assert navigation(tab.call("delete", [None])) == {"url": "/chat/", "replace": True}

    conversations, messages = snapshot(portal)
    assert [c[0] for c in conversations] == [kept]
    assert {m[1] for m in messages} == {kept}


def test_new_chat_and_the_sidebar_navigate_with_a_new_history_entry(
    portal: Portal, signed_in: Client
) -> None:
    alice = signed_in("alice")
    ChatTab(alice).send("Somewhere to go back to")
    [(conversation_id, *_)], _ = snapshot(portal)
    tab = ChatTab(alice)
    tab.open()
    assert navigation(tab.call("new_chat")) == {"url": "/chat/", "replace": False}
    assert navigation(tab.call("open_conversation", [str(conversation_id)])) == {
        "url": f"/chat/?c={conversation_id}",
        "replace": False,
    }


@pytest.mark.parametrize("blank", ["", "   ", "\n\t \n", "\x00\x00"])
def test_a_blank_message_is_ignored(portal: Portal, signed_in: Client, blank: str) -> None:
    result = ChatTab(signed_in("alice")).send(blank)
    assert result.success
    assert snapshot(portal) == ([], [])


def test_a_megabyte_message_is_refused_with_the_limit_and_nothing_is_stored(
    portal: Portal, signed_in: Client
) -> None:
    result = ChatTab(signed_in("alice")).send("x" * 1_000_000)
    # Shown where the page shows notices; the text stays in the box (not an output).
    notice = outputs("send", result)["notice"]
    assert notice["visible"] is True and notice["value"].startswith("**Message not sent.**")
    assert "1,000,000 characters" in notice["value"] and "limit is 32,000" in notice["value"]
    assert snapshot(portal) == ([], [])


def test_the_limit_is_inclusive(
    make_settings: Callable[..., PortalSettings],
    serve: Callable[[Any], LiveServer],
    signed_in_client: Callable[..., httpx.Client],
) -> None:
    portal = Portal(settings=make_settings(chat_max_message_chars=100))
    portal.accounts.create("carol", PASSWORD)
    mount_chat(portal, backend=EchoBackend(reply_tokens=3))
    client = signed_in_client(serve(portal.app), "carol", PASSWORD)
    tab = ChatTab(client)
    refused = tab.send("y" * 101)
    assert "limit is 100 characters" in outputs("send", refused)["notice"]["value"]
    assert tab.send("y" * 100).success
    assert snapshot(portal)[1][0][3] == "y" * 100


def test_unicode_and_control_characters_are_kept_but_nul_is_dropped(
    portal: Portal, signed_in: Client
) -> None:
    text = "Grüße 👩‍👩‍👧 مرحبا \x01\x1b[31mred\u202ecba\u200b | \x00end\ud800"
    result = ChatTab(signed_in("alice")).send(text)
    assert result.success
    [conversation], [user_message, _] = snapshot(portal)
    expected = text.replace("\x00", "").replace("\ud800", "\ufffd")
    assert user_message[3] == expected
    # The title is one line of the same text: controls become spaces, emoji stay whole.
    assert conversation[2] == "Grüße 👩‍👩‍👧 مرحبا [31mred\u202ecba\u200b | end\ufffd"


def test_stop_keeps_the_partial_reply_marked_incomplete(
    make_settings: Callable[..., PortalSettings],
    serve: Callable[[Any], LiveServer],
    signed_in_client: Callable[..., httpx.Client],
) -> None:
    portal, tab = slow_chat(make_settings, serve, signed_in_client)
    assert tab.call("send", ["Tell me a long story", None, None]).success
    event_id = tab.join("stream_reply", [None])
    with tab.stream() as messages:
        started = time.monotonic()
        for message in messages:
            # Past the 1 s save interval: the partial text must already be in the database.
            if message.get("msg") == "process_generating" and time.monotonic() - started > 1.3:
                break
        reply = stored_messages(portal, 1)[1]
        assert reply.content and not reply.complete and reply.error is None

        tab.cancel("stream_reply", event_id)  # what the stop button sends
        assert any(m.get("msg") == "process_completed" for m in messages)

    reply = wait_for(lambda: stored_messages(portal, 1)[1].error and stored_messages(portal, 1)[1])
    full = echo_reply(portal.settings, "Tell me a long story")
    assert reply.error == STOPPED and not reply.complete
    assert len(reply.content) >= 10 and full.startswith(reply.content) and reply.content != full
    page = ChatTab(tab.client, page=f"{MOUNT}/?c=1").open()
    assert bubbles(page["chatbot"])[1] == ("assistant", f"{reply.content}\n\n> ⚠️ {STOPPED}")


def test_closing_the_page_keeps_the_partial_reply(
    make_settings: Callable[..., PortalSettings],
    serve: Callable[[Any], LiveServer],
    signed_in_client: Callable[..., httpx.Client],
) -> None:
    portal, tab = slow_chat(make_settings, serve, signed_in_client)
    assert tab.call("send", ["Tell me a long story", None, None]).success
    tab.join("stream_reply", [None])
    with tab.stream() as messages:
        generating = 0
        for message in messages:
            generating += message.get("msg") == "process_generating"
            if generating == 3:
                break
    # The connection is closed: Gradio drops the event at its next update.

    reply = wait_for(lambda: stored_messages(portal, 1)[1].error and stored_messages(portal, 1)[1])
    assert reply.error == STOPPED and not reply.complete and reply.content
    full = echo_reply(portal.settings, "Tell me a long story")
    assert full.startswith(reply.content) and reply.content != full


def slow_chat(
    make_settings: Callable[..., PortalSettings],
    serve: Callable[[Any], LiveServer],
    signed_in_client: Callable[..., httpx.Client],
) -> tuple[Portal, ChatTab]:
    # 200 tokens at 20 per second: a 10 s reply, stopped after a second or two.
    portal = Portal(
        settings=make_settings(chat_echo_tokens_per_second=20, chat_echo_reply_tokens=200)
    )
    portal.accounts.create("carol", PASSWORD)
    mount_chat(portal)
    client = signed_in_client(serve(portal.app), "carol", PASSWORD)
    return portal, ChatTab(client)


class Rendezvous:
    """A backend whose replies wait until `expected` of them are in flight at once.

    Each reply says how many it saw together; under a cap below `expected` they give up
    after `patience` seconds and say so.
    """

    name = "rendezvous"

    def __init__(self, expected: int, patience: float = 20) -> None:
        self.expected = expected
        self.patience = patience
        self.active = 0
        self.peak = 0

    async def stream(self, request: ChatRequest) -> AsyncIterator[str]:
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            deadline = time.monotonic() + self.patience
            while self.active < self.expected and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            yield f"together with {self.peak}"
        finally:
            self.active -= 1


def test_more_than_forty_replies_stream_at_once(
    make_settings: Callable[..., PortalSettings],
    serve: Callable[[Any], LiveServer],
    signed_in_client: Callable[..., httpx.Client],
) -> None:
    # Gradio's defaults run one event per function, and 40 events in all, at a time.
    users = 45
    backend = Rendezvous(users)
    portal = Portal(settings=make_settings())
    portal.accounts.create("carol", PASSWORD)
    mount_chat(portal, backend=backend)
    server = serve(portal.app)
    client = signed_in_client(server, "carol", PASSWORD)
    events = ChatTab(client).events
    fn_indexes = (events.fn_index("send"), events.fn_index("stream_reply"))

    replies = asyncio.run(_send_all(server.url, dict(client.cookies), fn_indexes, users))

    assert backend.peak == users
    assert replies == [f"together with {users}"] * users


async def _send_all(
    url: str, cookies: dict[str, str], fn_indexes: tuple[int, int], count: int
) -> list[str]:
    limits = httpx.Limits(max_connections=2 * count)
    async with httpx.AsyncClient(
        base_url=url, cookies=cookies, timeout=60, limits=limits
    ) as client:

        async def event(fn_index: int, data: list[Any], session_hash: str) -> Any:
            body = {"data": data, "fn_index": fn_index, "session_hash": session_hash}
            (await client.post(MOUNT + "/gradio_api/queue/join", json=body)).raise_for_status()
            params = {"session_hash": session_hash}
            async with client.stream("GET", MOUNT + "/gradio_api/queue/data", params=params) as r:
                async for line in r.aiter_lines():
                    if '"process_completed"' in line:
                        completed = json.loads(line[5:])
                        assert completed["success"], completed
                        return completed["output"]["data"][0]
            raise AssertionError("the event did not complete")

        async def one() -> str:
            # As the browser does: the message (stored, page updated), then the reply.
            session_hash = secrets.token_hex(8)
            send, stream_reply = fn_indexes
            await event(send, ["Hi", None, None], session_hash)
            chatbot = await event(stream_reply, [None], session_hash)
            return bubbles(chatbot)[-1][1]

        return list(await asyncio.gather(*(one() for _ in range(count))))


def test_after_a_failover_the_next_message_goes_to_the_conversation_on_screen(
    portal: Portal, signed_in: Client
) -> None:
    alice = signed_in("alice")
    tab = ChatTab(alice)
    tab.open()
    tab.send("Before the failover")
    [(conversation_id, *_)], _ = snapshot(portal)
    # The same page, its events now served by a process that has none of its gr.State: the
    # address bar (?c=, which the page keeps current) names the conversation it shows.
    moved = ChatTab(alice, page=f"{MOUNT}/?c={conversation_id}")
    sent = outputs("send", moved.send("After the failover"))
    conversations, messages = snapshot(portal)
    assert [c[0] for c in conversations] == [conversation_id]
    assert [m[2:4] for m in messages][::2] == [
        ("user", "Before the failover"),
        ("user", "After the failover"),
    ]
    # The page shows the whole conversation again, not a new chat.
    assert [b[1] for b in bubbles(sent["chatbot"])][::2] == [
        "Before the failover",
        "After the failover",
    ]


def test_a_reply_streams_even_when_the_page_state_is_elsewhere(
    portal: Portal, settings: PortalSettings, signed_in: Client
) -> None:
    # After a failover, `send` and `stream_reply` of one page can reach different processes:
    # the second has none of the page's gr.State. It finds the stored turn in the database.
    stored_by = ChatTab(signed_in("alice"))
    stored_by.open()
    assert stored_by.call("send", ["Where did my page go?", None, None]).success
    elsewhere = ChatTab(signed_in("alice"))  # a page state that never saw the message
    reply = elsewhere.call("stream_reply", [None])
    assert reply.success
    assert any(m.get("msg") == "process_generating" for m in reply.messages)
    expected = echo_reply(settings, "Where did my page go?")
    [_conversation], messages = snapshot(portal)
    assert [(m[2], m[3], m[4]) for m in messages] == [
        ("user", "Where did my page go?", True),
        ("assistant", expected, True),
    ]
    # Answered once: a second page asking again finds nothing left to answer.
    again = ChatTab(signed_in("alice")).call("stream_reply", [None])
    assert again.success
    assert not any(m.get("msg") == "process_generating" for m in again.messages)
