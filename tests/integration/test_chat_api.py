"""The chat's JSON API over real HTTP: scoped to the session's user, paginated, CSRF-safe."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from tests.conftest import PASSWORD
from tests.integration.test_chat_support import ChatTab, first_update, snapshot

from gradio_portal import Portal, PortalSettings
from gradio_portal.chat import mount_chat
from gradio_portal.testing import LiveServer, login

API = "/api/conversations"
AJAX = {"X-Requested-With": "XMLHttpRequest"}


@pytest.fixture
def settings(make_settings: Callable[..., PortalSettings]) -> PortalSettings:
    return make_settings(chat_echo_tokens_per_second=0, chat_echo_reply_tokens=4)


@pytest.fixture
def server(portal: Portal, serve: Callable[[Any], LiveServer]) -> LiveServer:
    mount_chat(portal)
    return serve(portal.app)


@pytest.fixture
def alice(server: LiveServer, client_for: Callable[[LiveServer], httpx.Client]) -> httpx.Client:
    client = client_for(server)
    assert login(client, "alice", PASSWORD).status_code == 303
    return client


@pytest.fixture
def bob(server: LiveServer, client_for: Callable[[LiveServer], httpx.Client]) -> httpx.Client:
    client = client_for(server)
    assert login(client, "bob", PASSWORD).status_code == 303
    return client


def chats(client: httpx.Client, *messages: str) -> list[int]:
    """One conversation per message, through the chat page; their ids, oldest first."""
    ids = []
    for message in messages:
        page = first_update("send", ChatTab(client).send(message))
        ids.append(int(page["page_query"].removeprefix("?c=")))
    return ids


def test_list_is_newest_first_and_paginated(alice: httpx.Client, bob: httpx.Client) -> None:
    ids = chats(alice, "one", "two", "three", "four", "five")
    chats(bob, "bob's")

    first = alice.get(API, params={"limit": 2})
    assert first.status_code == 200
    assert first.headers["cache-control"] == "no-store"
    body = first.json()
    assert [c["title"] for c in body["items"]] == ["five", "four"]
    assert (body["total"], body["limit"], body["offset"]) == (5, 2, 0)
    rest = alice.get(API, params={"limit": 2, "offset": 4}).json()
    assert [c["id"] for c in rest["items"]] == [ids[0]]
    assert set(rest["items"][0]) == {
        "id",
        "title",
        "created_at",
        "updated_at",
        "model",
        "system_prompt",
    }
    assert alice.get(API, params={"limit": 0}).status_code == 422
    assert alice.get(API, params={"limit": 101}).status_code == 422


def test_a_conversation_comes_with_its_messages(alice: httpx.Client) -> None:
    [conversation_id] = chats(alice, "Hello API")
    body = alice.get(f"{API}/{conversation_id}").json()
    assert body["title"] == "Hello API"
    assert [(m["role"], m["content"], m["complete"], m["error"]) for m in body["messages"]] == [
        ("user", "Hello API", True, None),
        ("assistant", "You said: Hello API", True, None),
    ]


def test_export_is_a_markdown_download(alice: httpx.Client) -> None:
    [conversation_id] = chats(alice, "Export *me*")
    response = alice.get(f"{API}/{conversation_id}/export.md")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="conversation-{conversation_id}.md"'
    )
    assert response.headers["x-content-type-options"] == "nosniff"
    text = response.text
    assert text.startswith("# Export \\*me\\*\n")
    assert "Alice Liddell" in text
    assert "## You (" in text and "\n\nExport *me*\n" in text
    assert "## Assistant (" in text and "You said: Export *me*" in text


def test_delete_needs_the_custom_header_and_a_same_origin(alice: httpx.Client) -> None:
    [conversation_id] = chats(alice, "Delete me")
    url = f"{API}/{conversation_id}"

    assert alice.delete(url).status_code == 403
    cross_site = {**AJAX, "Origin": "https://evil.example"}
    assert alice.delete(url, headers=cross_site).status_code == 403
    assert alice.get(url).status_code == 200

    same_site = {**AJAX, "Origin": str(alice.base_url).rstrip("/")}
    response = alice.delete(url, headers=same_site)
    assert response.status_code == 204
    assert alice.get(url).status_code == 404
    assert alice.delete(url, headers=AJAX).status_code == 404


def test_another_users_conversation_is_a_404_like_a_missing_one(
    portal: Portal, alice: httpx.Client, bob: httpx.Client
) -> None:
    [conversation_id] = chats(alice, "Alice's secret")
    before = snapshot(portal)
    for path in (f"{API}/{conversation_id}", f"{API}/{conversation_id}/export.md"):
        foreign, missing = bob.get(path), bob.get(path.replace(str(conversation_id), "999"))
        assert foreign.status_code == missing.status_code == 404
        assert foreign.json() == missing.json() == {"detail": "No such conversation."}
    assert bob.delete(f"{API}/{conversation_id}", headers=AJAX).status_code == 404
    assert bob.get(API).json() == {"items": [], "total": 0, "limit": 20, "offset": 0}
    assert snapshot(portal) == before


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", API), ("GET", f"{API}/1"), ("GET", f"{API}/1/export.md"), ("DELETE", f"{API}/1")],
)
def test_without_a_session_the_answer_is_401_json(
    server: LiveServer, method: str, path: str
) -> None:
    response = httpx.request(method, server.url + path, headers=AJAX)
    assert response.status_code == 401
    detail = response.json()["detail"]
    assert detail.startswith("Not signed in, or the session ended: sign in at /login and retry.")
    assert "Authorization: Bearer" in detail
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("bad", ["0", "-1", "abc", str(2**63), "1.5"])
def test_ids_outside_the_database_range_are_invalid_input(alice: httpx.Client, bad: str) -> None:
    assert alice.get(f"{API}/{bad}").status_code == 422


def test_the_routes_are_documented_in_openapi(alice: httpx.Client) -> None:
    paths = alice.get("/openapi.json").json()["paths"]
    assert set(paths[API]) == {"get", "post"}
    assert set(paths[API + "/{conversation_id}"]) == {"get", "delete", "patch"}
    assert set(paths[API + "/{conversation_id}/export.md"]) == {"get"}
