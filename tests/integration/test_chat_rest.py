"""Chatting over the REST API, on a real server: turns as JSON and as server-sent events,
regenerate and edit, ratings, a conversation's model and instructions, the daily limit."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from tests.conftest import PASSWORD
from tests.support.fake_openai import MODEL_OK, FakeOpenAI

from gradio_portal import Portal, PortalSettings
from gradio_portal.chat import mount_chat
from gradio_portal.chat.api.turns import LIVENESS_INTERVAL
from gradio_portal.storage.models import Message
from gradio_portal.testing import LiveServer, login

API = "/api/conversations"
AJAX = {"X-Requested-With": "XMLHttpRequest"}


@pytest.fixture
def settings(make_settings: Callable[..., PortalSettings]) -> PortalSettings:
    return make_settings(chat_echo_tokens_per_second=0)


@pytest.fixture
def server(portal: Portal, serve: Callable[[Any], LiveServer]) -> LiveServer:
    mount_chat(portal)
    return serve(portal.app)


def chat_portal(make_settings: Callable[..., PortalSettings], **overrides: Any) -> Portal:
    """A portal with the chat and the two users, on settings of its own."""
    portal = Portal(settings=make_settings(**overrides))
    portal.accounts.create("alice", PASSWORD, display_name="Alice Liddell")
    portal.accounts.create("bob", PASSWORD, display_name="Bob")
    mount_chat(portal)
    return portal


def signed_in(
    server: LiveServer, client_for: Callable[[LiveServer], httpx.Client], username: str
) -> httpx.Client:
    client = client_for(server)
    assert login(client, username, PASSWORD).status_code == 303
    client.headers.update(AJAX)
    return client


@pytest.fixture
def alice(server: LiveServer, client_for: Callable[[LiveServer], httpx.Client]) -> httpx.Client:
    return signed_in(server, client_for, "alice")


@pytest.fixture
def bob(server: LiveServer, client_for: Callable[[LiveServer], httpx.Client]) -> httpx.Client:
    return signed_in(server, client_for, "bob")


def events(response: httpx.Response) -> Iterator[tuple[str, Any]]:
    """The server-sent events of a streamed response: (event name, parsed data)."""
    name, data = "message", []
    for line in response.iter_lines():
        if not line:
            if data:
                yield name, json.loads("\n".join(data))
            name, data = "message", []
        elif line.startswith("event:"):
            name = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            data.append(line.removeprefix("data:").strip())


def stored(client: httpx.Client, conversation_id: int) -> list[tuple[str, str, bool]]:
    body = client.get(f"{API}/{conversation_id}").json()
    return [(m["role"], m["content"], m["complete"]) for m in body["messages"]]


def test_a_conversation_starts_and_continues_over_json(alice: httpx.Client) -> None:
    first = alice.post(API, json={"message": "Hello REST"})
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["message"]["role"] == "user" and body["message"]["content"] == "Hello REST"
    reply = body["reply"]
    assert (reply["role"], reply["content"], reply["complete"], reply["error"]) == (
        "assistant",
        "You said: Hello REST",
        True,
        None,
    )
    conversation_id = body["id"]
    second = alice.post(f"{API}/{conversation_id}/messages", json={"message": "Again"})
    assert second.status_code == 200 and second.json()["id"] == conversation_id
    # What the API answered is what is stored, in order.
    assert stored(alice, conversation_id) == [
        ("user", "Hello REST", True),
        ("assistant", "You said: Hello REST", True),
        ("user", "Again", True),
        ("assistant", "You said: Again", True),
    ]
    listed = alice.get(API).json()["items"]
    assert listed[0]["id"] == conversation_id and listed[0]["title"] == "Hello REST"


def test_a_reply_streams_as_server_sent_events(alice: httpx.Client) -> None:
    with alice.stream(
        "POST", API, json={"message": "Stream me"}, headers={"Accept": "text/event-stream"}
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-store"
        received = list(events(response))
    names = [name for name, _ in received]
    assert names[0] == "conversation" and names[-1] == "message"
    assert set(names[1:-1]) == {"token"}
    conversation = received[0][1]
    tokens = "".join(data["text"] for name, data in received if name == "token")
    final = received[-1][1]
    assert tokens == final["content"] == "You said: Stream me"
    assert final["complete"] is True
    assert stored(alice, conversation["id"])[-1] == ("assistant", "You said: Stream me", True)


def test_a_dropped_stream_leaves_the_partial_reply_stored_and_incomplete(
    make_settings: Callable[..., PortalSettings],
    serve: Callable[[Any], LiveServer],
    client_for: Callable[[LiveServer], httpx.Client],
) -> None:
    slow = chat_portal(make_settings, chat_echo_tokens_per_second=20, chat_echo_reply_tokens=400)
    server = serve(slow.app)
    client = signed_in(server, client_for, "alice")
    with client.stream(
        "POST", API, json={"message": "Long story"}, headers={"Accept": "text/event-stream"}
    ) as response:
        seen = events(response)
        assert next(seen)[0] == "conversation"
        conversation_id = None
        for name, data in seen:
            if name == "token" and len(data["text"]) > 0:
                break
        conversation_id = client.get(API).json()["items"][0]["id"]
    # The client is gone; the server notices, stops the reply and keeps what it had.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        reply = client.get(f"{API}/{conversation_id}").json()["messages"][-1]
        if reply["error"] is not None:
            break
        time.sleep(0.1)
    assert reply["role"] == "assistant"
    assert reply["complete"] is False
    assert reply["error"] == "Stopped before the reply was complete."
    assert reply["content"].startswith("You")
    time.sleep(1.0)  # the reply was stopped: it does not go on growing in the database
    assert client.get(f"{API}/{conversation_id}").json()["messages"][-1] == reply


def test_cookie_requests_need_the_same_site_header_and_tokens_do_not(
    portal: Portal, server: LiveServer, alice: httpx.Client
) -> None:
    alice.headers.pop("X-Requested-With")
    refused = alice.post(API, json={"message": "forged"})
    assert refused.status_code == 403
    assert "X-Requested-With" in refused.json()["detail"]
    cross_site = alice.post(
        API, json={"message": "forged"}, headers={**AJAX, "Origin": "https://evil.example"}
    )
    assert cross_site.status_code == 403
    assert alice.get(API).json()["total"] == 0  # nothing was stored

    token, _ = portal.tokens.create("alice")
    with httpx.Client(base_url=server.url, timeout=30) as script:
        answered = script.post(
            API, json={"message": "from a script"}, headers={"Authorization": f"Bearer {token}"}
        )
    assert answered.status_code == 200
    assert answered.json()["reply"]["content"] == "You said: from a script"

    with httpx.Client(base_url=server.url, timeout=30) as anonymous:
        nobody = anonymous.post(API, json={"message": "hi"}, headers=AJAX)
    assert nobody.status_code == 401
    assert "sign in" in nobody.json()["detail"]


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"message": "   "}, 400, "empty"),
        ({"message": "x" * 40_000}, 400, "limit"),
        ({"message": 5}, 422, ""),
        ({}, 422, ""),
        ({"message": "hi", "model": "no-such-model"}, 400, "not offered"),
    ],
)
def test_bad_messages_are_refused_readably_and_store_nothing(
    alice: httpx.Client, body: dict[str, Any], status: int, says: str
) -> None:
    response = alice.post(API, json=body)
    assert response.status_code == status, response.text
    assert says in json.dumps(response.json())
    assert alice.get(API).json()["total"] == 0


def test_a_malformed_body_is_a_readable_422(alice: httpx.Client) -> None:
    response = alice.post(API, content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422


def test_regenerate_replaces_the_last_reply(alice: httpx.Client) -> None:
    conversation_id = alice.post(API, json={"message": "Once"}).json()["id"]
    again = alice.post(f"{API}/{conversation_id}/regenerate")
    assert again.status_code == 200
    assert again.json()["message"]["content"] == "Once"
    assert again.json()["reply"]["content"] == "You said: Once"
    assert stored(alice, conversation_id) == [
        ("user", "Once", True),
        ("assistant", "You said: Once", True),
    ]
    messages = alice.get(f"{API}/{conversation_id}").json()["messages"]
    assert messages[-1]["id"] == again.json()["reply"]["id"]


def test_the_last_message_can_be_edited_and_earlier_ones_cannot(alice: httpx.Client) -> None:
    conversation_id = alice.post(API, json={"message": "First"}).json()["id"]
    second = alice.post(f"{API}/{conversation_id}/messages", json={"message": "Secnod"}).json()
    first_id = alice.get(f"{API}/{conversation_id}").json()["messages"][0]["id"]

    edited = alice.put(
        f"{API}/{conversation_id}/messages/{second['message']['id']}", json={"message": "Second"}
    )
    assert edited.status_code == 200
    assert edited.json()["reply"]["content"] == "You said: Second"
    assert stored(alice, conversation_id) == [
        ("user", "First", True),
        ("assistant", "You said: First", True),
        ("user", "Second", True),
        ("assistant", "You said: Second", True),
    ]
    refused = alice.put(f"{API}/{conversation_id}/messages/{first_id}", json={"message": "No"})
    assert refused.status_code == 409
    assert "latest message" in refused.json()["detail"]


def test_ratings_are_stored_in_the_api_and_the_export(alice: httpx.Client) -> None:
    body = alice.post(API, json={"message": "Rate me"}).json()
    conversation_id, reply_id = body["id"], body["reply"]["id"]
    url = f"{API}/{conversation_id}/messages/{reply_id}/feedback"
    rated = alice.put(url, json={"rating": "down", "comment": "Too short."})
    assert rated.status_code == 200
    assert (rated.json()["feedback"], rated.json()["feedback_comment"]) == ("down", "Too short.")
    reply = alice.get(f"{API}/{conversation_id}").json()["messages"][-1]
    assert (reply["feedback"], reply["feedback_comment"]) == ("down", "Too short.")
    export = alice.get(f"{API}/{conversation_id}/export.md").text
    assert "Rated 👎*: Too short" in export
    # A user message cannot be rated; clearing works.
    user_id = body["message"]["id"]
    assert (
        alice.put(
            f"{API}/{conversation_id}/messages/{user_id}/feedback", json={"rating": "up"}
        ).status_code
        == 404
    )
    cleared = alice.put(url, json={"rating": None})
    assert cleared.json()["feedback"] is None and cleared.json()["feedback_comment"] is None
    assert alice.put(url, json={"rating": "sideways"}).status_code == 422


def test_a_conversation_keeps_its_model_and_instructions(
    make_settings: Callable[..., PortalSettings],
    serve: Callable[[Any], LiveServer],
    client_for: Callable[[LiveServer], httpx.Client],
) -> None:
    configured = chat_portal(make_settings, chat_models=["small", "large"])
    client = signed_in(serve(configured.app), client_for, "alice")
    assert client.get("/api/models").json() == {"models": ["small", "large"], "default": None}

    body = client.post(
        API, json={"message": "Hi", "model": "large", "system_prompt": "Be brief."}
    ).json()
    info = client.get(f"{API}/{body['id']}").json()
    assert (info["model"], info["system_prompt"]) == ("large", "Be brief.")

    changed = client.patch(f"{API}/{body['id']}", json={"model": "small", "title": "Renamed"})
    assert changed.status_code == 200
    assert (changed.json()["model"], changed.json()["title"]) == ("small", "Renamed")
    assert changed.json()["system_prompt"] == "Be brief."  # left out: unchanged
    reset = client.patch(f"{API}/{body['id']}", json={"system_prompt": None})
    assert reset.json()["system_prompt"] is None
    refused = client.patch(f"{API}/{body['id']}", json={"model": "huge"})
    assert refused.status_code == 400 and "small, large" in refused.json()["detail"]


def test_the_daily_limit_refuses_with_when_it_resets(
    make_settings: Callable[..., PortalSettings],
    serve: Callable[[Any], LiveServer],
    client_for: Callable[[LiveServer], httpx.Client],
) -> None:
    limited = chat_portal(make_settings, chat_daily_message_limit=2)
    server = serve(limited.app)
    client = signed_in(server, client_for, "alice")
    conversation_id = client.post(API, json={"message": "one"}).json()["id"]
    assert client.post(f"{API}/{conversation_id}/regenerate").status_code == 200
    refused = client.post(f"{API}/{conversation_id}/messages", json={"message": "three"})
    assert refused.status_code == 429
    assert "daily limit" in refused.json()["detail"] and "00:00 UTC" in refused.json()["detail"]
    assert 0 < int(refused.headers["retry-after"]) <= 86_400
    assert stored(client, conversation_id)[-2:] == [
        ("user", "one", True),
        ("assistant", "You said: one", True),
    ]
    # Deleting conversations does not give messages back; another user has their own count.
    assert client.delete(f"{API}/{conversation_id}").status_code == 204
    assert client.post(API, json={"message": "again"}).status_code == 429
    usage = client.get("/api/usage").json()
    assert (usage["today"], usage["limit"]) == (2, 2)
    other = signed_in(server, client_for, "bob")
    assert other.post(API, json={"message": "bob's first"}).status_code == 200


def test_a_second_user_reaches_none_of_the_first_users_turns(
    alice: httpx.Client, bob: httpx.Client
) -> None:
    body = alice.post(API, json={"message": "Alice's secret"}).json()
    conversation_id, reply_id = body["id"], body["reply"]["id"]
    attempts = [
        bob.post(f"{API}/{conversation_id}/messages", json={"message": "intrude"}),
        bob.post(f"{API}/{conversation_id}/regenerate"),
        bob.put(f"{API}/{conversation_id}/messages/{body['message']['id']}", json={"message": "x"}),
        bob.put(f"{API}/{conversation_id}/messages/{reply_id}/feedback", json={"rating": "up"}),
        bob.patch(f"{API}/{conversation_id}", json={"title": "mine now"}),
        bob.patch(f"{API}/{conversation_id}", json={"model": None}),
    ]
    assert [a.status_code for a in attempts] == [404] * len(attempts)
    assert all("Alice" not in a.text for a in attempts)
    # Bob's own conversation id with Alice's reply id: still not found.
    bobs = bob.post(API, json={"message": "Bob's"}).json()
    assert (
        bob.put(
            f"{API}/{bobs['id']}/messages/{reply_id}/feedback", json={"rating": "up"}
        ).status_code
        == 404
    )
    assert stored(alice, conversation_id) == [
        ("user", "Alice's secret", True),
        ("assistant", "You said: Alice's secret", True),
    ]
    reply = alice.get(f"{API}/{conversation_id}").json()["messages"][-1]
    assert reply["feedback"] is None
    assert alice.get(f"{API}/{conversation_id}").json()["title"] == "Alice's secret"


def test_openapi_documents_every_chat_route_with_examples(alice: httpx.Client) -> None:
    schema = alice.get("/openapi.json").json()
    paths = schema["paths"]
    for path, method in [
        (API, "post"),
        (API + "/{conversation_id}/messages", "post"),
        (API + "/{conversation_id}/regenerate", "post"),
        (API + "/{conversation_id}/messages/{message_id}", "put"),
        (API + "/{conversation_id}/messages/{message_id}/feedback", "put"),
        (API + "/{conversation_id}", "patch"),
        ("/api/models", "get"),
        ("/api/usage", "get"),
    ]:
        operation = paths[path][method]
        assert operation["summary"], (path, method)
    streamed = paths[API]["post"]["responses"]["200"]["content"]
    assert "event: token" in streamed["text/event-stream"]["example"]
    turn_in = schema["components"]["schemas"]["TurnIn"]["properties"]["message"]
    assert turn_in["examples"]
    # Generated clients name their methods after operation ids: each names one operation.
    ids = [op["operationId"] for methods in paths.values() for op in methods.values()]
    assert sorted({i for i in ids if ids.count(i) > 1}) == []


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


def upload(client: httpx.Client, name: str, data: bytes) -> dict[str, Any]:
    response = client.post("/api/attachments", files={"file": (name, data)})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_text_file_goes_into_the_models_context_and_stays_with_its_message(
    alice: httpx.Client, bob: httpx.Client
) -> None:
    notes = upload(alice, "notes.md", b"The secret word is heliotrope.")
    body = alice.post(API, json={"message": "Read this", "attachments": [notes["id"]]}).json()
    # The echo backend repeats what the model was sent: the message and the file's text.
    assert "[File: notes.md]" in body["reply"]["content"]
    assert "heliotrope" in body["reply"]["content"]
    [sent] = body["message"]["attachments"]
    assert (sent["id"], sent["filename"], sent["url"]) == (
        notes["id"],
        "notes.md",
        f"/api/attachments/{notes['id']}",
    )
    read = alice.get(f"{API}/{body['id']}").json()["messages"][0]["attachments"]
    assert [f["id"] for f in read] == [notes["id"]]

    # A file goes with one message only, and only its owner's.
    again = alice.post(API, json={"message": "Twice", "attachments": [notes["id"]]})
    assert again.status_code == 400
    theirs = upload(bob, "bob.txt", b"bob's")
    stolen = alice.post(API, json={"message": "Steal", "attachments": [theirs["id"]]})
    assert stolen.status_code == 400
    assert bob.post(API, json={"message": "Steal", "attachments": [notes["id"]]}).status_code == 400
    assert bob.get(f"/api/attachments/{notes['id']}").status_code == 404

    # Deleting the conversation deletes its files.
    assert alice.delete(f"{API}/{body['id']}").status_code == 204
    assert alice.get(f"/api/attachments/{notes['id']}").status_code == 404


def test_later_turns_still_read_an_earlier_file_within_the_budget(alice: httpx.Client) -> None:
    notes = upload(alice, "plan.txt", b"Day one: Alfama. Day two: Belem.")
    first = alice.post(API, json={"message": "My plan", "attachments": [notes["id"]]}).json()
    later = alice.post(f"{API}/{first['id']}/messages", json={"message": "Day two?"}).json()
    assert later["reply"]["content"] == "You said: Day two?"  # the echo repeats the new message
    regenerated = alice.post(f"{API}/{first['id']}/regenerate").json()
    assert regenerated["message"]["content"] == "Day two?"


def test_an_image_reaches_an_openai_vision_model_as_an_image_part(
    make_settings: Callable[..., PortalSettings],
    serve: Callable[[Any], LiveServer],
    client_for: Callable[[LiveServer], httpx.Client],
) -> None:
    with FakeOpenAI(first_token_delay=0) as model_server:
        portal = chat_portal(
            make_settings,
            chat_backend="openai",
            openai_base_url=model_server.base_url,
            openai_model=MODEL_OK,
            openai_api_key=model_server.api_key,
        )
        client = signed_in(serve(portal.app), client_for, "alice")
        image = upload(client, "dot.png", PNG)
        assert image["kind"] == "image"
        body = client.post(API, json={"message": "What is this?", "attachments": [image["id"]]})
        assert body.status_code == 200 and body.json()["reply"]["complete"] is True
        [request] = [r for r in model_server.requests if r.path.endswith("/chat/completions")]
    content = request.messages[-1]["content"]
    assert content[0] == {"type": "text", "text": "What is this?\n\n[Image: dot.png]"}
    assert content[1]["type"] == "image_url"
    assert content[1]["image_url"]["url"].startswith("data:image/png;base64,")


def test_a_streamed_reply_stops_when_the_session_ends(
    make_settings: Callable[..., PortalSettings],
    serve: Callable[[Any], LiveServer],
    client_for: Callable[[LiveServer], httpx.Client],
) -> None:
    slow = chat_portal(make_settings, chat_echo_tokens_per_second=20, chat_echo_reply_tokens=400)
    client = signed_in(serve(slow.app), client_for, "alice")
    with client.stream(
        "POST", API, json={"message": "Long story"}, headers={"Accept": "text/event-stream"}
    ) as response:
        seen = events(response)
        name, first = next(seen)
        assert name == "conversation"
        next(seen)  # the reply streams
        alice = slow.accounts.set_active("alice", False)
        slow.sessions.end_all(alice.id)  # what the admin page and the command do
        ended_at = time.monotonic()
        rest = list(seen)
        stopped_after = time.monotonic() - ended_at
    assert stopped_after < LIVENESS_INTERVAL + 3, "the reply went on streaming"
    assert rest[-1][0] == "error" and "session ended" in rest[-1][1]["detail"]
    with slow.database.session() as session:
        reply = session.scalars(
            select(Message).where(Message.conversation_id == first["id"]).order_by(Message.id)
        ).all()[-1]
    assert reply.role == "assistant" and not reply.complete and reply.content
    assert reply.error == "Stopped before the reply was complete."
