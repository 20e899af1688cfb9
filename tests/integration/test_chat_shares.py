"""Share links over real HTTP: the API that makes, reports and ends them, and the page they open."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from tests.conftest import PASSWORD
from tests.integration.test_chat_support import ChatTab, first_update

from gradio_portal import Portal, PortalSettings
from gradio_portal.chat import mount_chat
from gradio_portal.storage.models import AuditEventRow, Message
from gradio_portal.testing import LiveServer, login

API = "/api/conversations"
AJAX = {"X-Requested-With": "XMLHttpRequest"}
SHARED_URL = re.compile(r"/shared/[A-Za-z0-9_-]{43}")


@pytest.fixture
def settings(make_settings: Callable[..., PortalSettings]) -> PortalSettings:
    return make_settings(chat_echo_tokens_per_second=0, chat_echo_reply_tokens=4)


@pytest.fixture
def server(portal: Portal, serve: Callable[[Any], LiveServer]) -> LiveServer:
    mount_chat(portal)
    return serve(portal.app)


def signed_in(
    server: LiveServer, client_for: Callable[[LiveServer], httpx.Client], name: str
) -> httpx.Client:
    client = client_for(server)
    assert login(client, name, PASSWORD).status_code == 303
    return client


@pytest.fixture
def alice(server: LiveServer, client_for: Callable[[LiveServer], httpx.Client]) -> httpx.Client:
    return signed_in(server, client_for, "alice")


@pytest.fixture
def bob(server: LiveServer, client_for: Callable[[LiveServer], httpx.Client]) -> httpx.Client:
    return signed_in(server, client_for, "bob")


def chat(client: httpx.Client, message: str) -> int:
    """A new conversation through the chat page; its id."""
    page = first_update("send", ChatTab(client).send(message))
    return int(page["page_query"].removeprefix("?c="))


def share(client: httpx.Client, conversation_id: int) -> httpx.Response:
    return client.post(f"{API}/{conversation_id}/share", headers=AJAX)


def test_share_report_and_end_a_link(portal: Portal, alice: httpx.Client) -> None:
    conversation_id = chat(alice, "Plan a weekend in Lisbon")
    url = f"{API}/{conversation_id}/share"
    assert alice.get(url).json() == {"shared": False, "created_at": None}

    made = share(alice, conversation_id)
    assert made.status_code == 201
    assert made.headers["cache-control"] == "no-store"
    body = made.json()
    assert set(body) == {"url", "created_at"}
    assert SHARED_URL.fullmatch(body["url"])

    status = alice.get(url)
    assert status.status_code == 200
    assert status.json() == {"shared": True, "created_at": body["created_at"]}
    assert body["url"].removeprefix("/shared/") not in status.text

    page = alice.get(body["url"])
    assert page.status_code == 200
    assert "Plan a weekend in Lisbon" in page.text

    # Sharing again: a new link, the earlier one ends.
    again = share(alice, conversation_id)
    assert again.status_code == 200
    assert again.json()["url"] != body["url"]
    assert alice.get(body["url"]).status_code == 404
    assert alice.get(again.json()["url"]).status_code == 200

    ended = alice.delete(url, headers=AJAX)
    assert ended.status_code == 204
    assert alice.get(again.json()["url"]).status_code == 404
    assert alice.get(url).json() == {"shared": False, "created_at": None}
    assert alice.delete(url, headers=AJAX).status_code == 404

    # Both changes are in the audit trail, without the token.
    with portal.database.session() as session:
        rows = session.scalars(
            select(AuditEventRow)
            .where(AuditEventRow.event.like("conversation.%"))
            .order_by(AuditEventRow.id)
        ).all()
        events = [(r.event, r.username, r.details) for r in rows]
    assert events == [
        ("conversation.shared", "alice", {"conversation": conversation_id}),
        ("conversation.shared", "alice", {"conversation": conversation_id}),
        ("conversation.unshared", "alice", {"conversation": conversation_id}),
    ]


def test_the_page_renders_the_snapshot(alice: httpx.Client, bob: httpx.Client) -> None:
    message = "Compare **bold** and `code` <b>raw</b>\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    conversation_id = chat(alice, message)
    link = share(alice, conversation_id).json()["url"]

    page = bob.get(link, headers={"accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "Shared by <strong>Alice Liddell</strong>" in html
    assert "<strong>bold</strong>" in html and "<code>code</code>" in html
    assert "&lt;b&gt;raw&lt;/b&gt;" in html and "<b>raw</b>" not in html
    assert "<table>" in html
    assert "You said:" in html
    assert '<meta name="referrer" content="no-referrer">' in html


def test_the_page_names_attached_files_but_never_serves_them(
    alice: httpx.Client, bob: httpx.Client
) -> None:
    uploaded = alice.post(
        "/api/attachments",
        files={"file": ("plan <v2>.md", b"The secret plan.")},
        headers=AJAX,
    )
    assert uploaded.status_code == 201, uploaded.text
    attachment = uploaded.json()
    body = alice.post(
        API, json={"message": "See the plan", "attachments": [attachment["id"]]}, headers=AJAX
    ).json()
    link = share(alice, body["id"]).json()["url"]

    html = bob.get(link, headers={"accept": "text/html"}).text
    assert "📎 plan &lt;v2&gt;.md" in html
    assert "Attached files are not shared." in html
    # The echo reply repeats the file's text: the page shows what the reply said, but the
    # file itself is no link, and stays its owner's.
    assert attachment["url"] not in html
    assert bob.get(attachment["url"]).status_code == 404


def test_the_page_marks_an_incomplete_reply(portal: Portal, alice: httpx.Client) -> None:
    conversation_id = chat(alice, "Tell me a story")
    with portal.database.session() as session:
        reply = session.scalars(
            select(Message).where(
                Message.conversation_id == conversation_id, Message.role == "assistant"
            )
        ).one()
        reply.complete = False
        reply.error = "Stopped before the reply was complete."
    link = share(alice, conversation_id).json()["url"]
    html = alice.get(link).text
    assert "Incomplete reply." in html
    assert "Stopped before the reply was complete." in html


def test_the_share_routes_are_documented_in_openapi(alice: httpx.Client) -> None:
    document = alice.get("/openapi.json").json()
    operations = document["paths"][API + "/{conversation_id}/share"]
    assert set(operations) == {"get", "post", "delete"}
    for operation in operations.values():
        assert operation["summary"] and operation["description"]
    assert set(operations["post"]["responses"]) >= {"200", "201", "403", "404"}
    schemas = document["components"]["schemas"]
    assert schemas["ShareOut"]["properties"]["url"]["examples"]
    assert "/shared/{token}" in document["paths"]


def test_an_access_token_shares_without_the_header_and_reads_the_page(
    portal: Portal, alice: httpx.Client, server: LiveServer
) -> None:
    conversation_id = chat(alice, "Through a script")
    secret, _ = portal.tokens.create("alice", label="script")
    with httpx.Client(base_url=server.url, headers={"authorization": f"Bearer {secret}"}) as script:
        made = script.post(f"{API}/{conversation_id}/share")
        assert made.status_code == 201
        page = script.get(made.json()["url"])
        assert page.status_code == 200
        assert "Through a script" in page.text
        assert script.delete(f"{API}/{conversation_id}/share").status_code == 204
