"""Share links attacked: another user's conversation, forged cross-site requests, old tokens,
anonymous visitors, leaks through the log and the Referer, and HTML in shared messages."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlalchemy import select
from tests.conftest import PASSWORD
from tests.integration.test_chat_support import ChatTab, first_update

from gradio_portal import Portal, PortalSettings
from gradio_portal.chat import mount_chat
from gradio_portal.chat.repository import ConversationRepository
from gradio_portal.observability import configure_logging
from gradio_portal.storage.models import ConversationShare
from gradio_portal.testing import LiveServer, login

API = "/api/conversations"
AJAX = {"X-Requested-With": "XMLHttpRequest"}
HTML = {"accept": "text/html,application/xhtml+xml"}
TURN = {"title": "t", "context_chars": 10_000, "recent_limit": 100}


@pytest.fixture
def settings(make_settings: Callable[..., PortalSettings]) -> PortalSettings:
    return make_settings(chat_echo_tokens_per_second=0, chat_echo_reply_tokens=4)


@pytest.fixture
def server(portal: Portal, serve: Callable[..., LiveServer]) -> LiveServer:
    mount_chat(portal)
    return serve(portal.app)


@pytest.fixture
def sign_in(
    server: LiveServer, client_for: Callable[[LiveServer], httpx.Client]
) -> Callable[[str], httpx.Client]:
    def signed_in(name: str) -> httpx.Client:
        client = client_for(server)
        assert login(client, name, PASSWORD).status_code == 303
        return client

    return signed_in


def chat(client: httpx.Client, message: str) -> int:
    page = first_update("send", ChatTab(client).send(message))
    return int(page["page_query"].removeprefix("?c="))


def share(client: httpx.Client, conversation_id: int) -> str:
    response = client.post(f"{API}/{conversation_id}/share", headers=AJAX)
    assert response.status_code in (200, 201), response.text
    return str(response.json()["url"])


def share_rows(portal: Portal) -> list[tuple[int, int, str]]:
    with portal.database.session() as session:
        return [
            (row.conversation_id, row.user_id, row.token_hash)
            for row in session.scalars(select(ConversationShare).order_by(ConversationShare.id))
        ]


def user_id(portal: Portal, name: str) -> int:
    account = portal.accounts.get(name)
    assert account is not None
    return account.user.id


def test_another_users_conversation_cannot_be_shared_unshared_or_inspected(
    portal: Portal, sign_in: Callable[[str], httpx.Client]
) -> None:
    alice, bob = sign_in("alice"), sign_in("bob")
    conversation_id = chat(alice, "Alice's secret plan")
    missing_id = conversation_id + 1000

    # Not shared yet: bob cannot make a link.
    for method in ("POST", "GET", "DELETE"):
        foreign = bob.request(method, f"{API}/{conversation_id}/share", headers=AJAX)
        missing = bob.request(method, f"{API}/{missing_id}/share", headers=AJAX)
        assert foreign.status_code == missing.status_code == 404, method
        assert foreign.json() == missing.json(), method
    assert share_rows(portal) == []

    # Shared: bob can neither end it, nor learn that it is shared.
    link = share(alice, conversation_id)
    before = share_rows(portal)
    for method in ("GET", "DELETE", "POST"):
        foreign = bob.request(method, f"{API}/{conversation_id}/share", headers=AJAX)
        missing = bob.request(method, f"{API}/{missing_id}/share", headers=AJAX)
        assert foreign.status_code == missing.status_code == 404, method
        assert foreign.json() == missing.json(), method
    assert share_rows(portal) == before
    assert alice.get(link).status_code == 200


def test_whoever_is_signed_in_and_has_the_link_reads_it(
    sign_in: Callable[[str], httpx.Client],
) -> None:
    alice, bob = sign_in("alice"), sign_in("bob")
    link = share(alice, chat(alice, "Lisbon in three days"))
    page = bob.get(link, headers=HTML)
    assert page.status_code == 200
    assert "Lisbon in three days" in page.text
    assert "Shared by <strong>Alice Liddell</strong>" in page.text
    # Reading does not let bob into alice's conversation.
    conversation_id = int(bob.get(API).json()["total"])
    assert conversation_id == 0


def test_anonymous_visitors_are_sent_to_sign_in_and_come_back(
    server: LiveServer, sign_in: Callable[[str], httpx.Client]
) -> None:
    alice = sign_in("alice")
    link = share(alice, chat(alice, "For bob"))

    with httpx.Client(base_url=server.url) as anonymous:
        page = anonymous.get(link, headers=HTML)
        assert page.status_code == 303
        assert page.headers["location"] == f"/login?next={link}"
        assert page.headers["referrer-policy"] == "no-referrer"
        script = anonymous.get(link)
        assert script.status_code == 401
        assert script.json()["detail"].startswith("Not signed in")
        assert "For bob" not in script.text

        # Signing in on that page comes back to the link.
        signed = login(anonymous, "bob", PASSWORD, next=link)
        assert signed.status_code == 303
        assert signed.headers["location"] == link
        assert "For bob" in anonymous.get(link, headers=HTML).text


def test_revoked_replaced_unknown_and_malformed_links_are_the_same_404(
    sign_in: Callable[[str], httpx.Client],
) -> None:
    alice, bob = sign_in("alice"), sign_in("bob")
    conversation_id = chat(alice, "Short-lived")
    first = share(alice, conversation_id)
    second = share(alice, conversation_id)  # replaces the first
    third = chat(alice, "Revoked")
    revoked = share(alice, third)
    assert alice.delete(f"{API}/{third}/share", headers=AJAX).status_code == 204

    unknown = "/shared/" + "A" * 43
    answers = [bob.get(path, headers=HTML) for path in (first, revoked, unknown)]
    answers += [bob.get(f"/shared/{bad}", headers=HTML) for bad in ("x", "A" * 44, "%00" * 43)]
    for answer in answers:
        assert answer.status_code == 404
        assert "Link not found" in answer.text
        assert "Short-lived" not in answer.text and "Revoked" not in answer.text
        assert answer.headers["referrer-policy"] == "no-referrer"
    assert bob.get(second, headers=HTML).status_code == 200

    # Deleting the conversation ends its link.
    assert alice.delete(f"{API}/{conversation_id}", headers=AJAX).status_code == 204
    assert bob.get(second, headers=HTML).status_code == 404


def test_the_link_shows_nothing_sent_after_sharing(
    portal: Portal, sign_in: Callable[[str], httpx.Client]
) -> None:
    alice, bob = sign_in("alice"), sign_in("bob")
    conversation_id = chat(alice, "Public part")
    link = share(alice, conversation_id)
    # Alice goes on in the same conversation, and renames it.
    repository = ConversationRepository(portal.database)
    turn = repository.begin_turn(
        user_id(portal, "alice"), conversation_id, "Private follow-up", **TURN
    )
    repository.save_reply(user_id(portal, "alice"), turn.reply_id, "Private reply", complete=True)
    repository.rename(user_id(portal, "alice"), conversation_id, "Private title")
    assert "Private follow-up" in alice.get(f"{API}/{conversation_id}").text

    html = bob.get(link, headers=HTML).text
    assert "Public part" in html
    for private in ("Private follow-up", "Private reply", "Private title"):
        assert private not in html


def test_changes_need_the_header_and_this_site(
    portal: Portal, sign_in: Callable[[str], httpx.Client]
) -> None:
    alice = sign_in("alice")
    conversation_id = chat(alice, "Guarded")
    url = f"{API}/{conversation_id}/share"
    cross_site = {**AJAX, "Origin": "https://evil.example"}
    for method in ("POST", "DELETE"):
        assert alice.request(method, url).status_code == 403, method
        assert alice.request(method, url, headers=cross_site).status_code == 403, method
        # A form post (what a cross-site page can send without a preflight) is refused too.
        form = alice.request(
            method, url, content=b"a=1", headers={"content-type": "text/plain", "Origin": "null"}
        )
        assert form.status_code == 403, method
    assert share_rows(portal) == []

    link = share(alice, conversation_id)
    assert alice.delete(url, headers=cross_site).status_code == 403
    assert alice.get(link).status_code == 200
    same_site = {**AJAX, "Origin": str(alice.base_url).rstrip("/")}
    assert alice.delete(url, headers=same_site).status_code == 204


def test_the_page_keeps_its_token_and_runs_nothing(
    sign_in: Callable[[str], httpx.Client],
) -> None:
    alice, bob = sign_in("alice"), sign_in("bob")
    hostile = (
        '<script>alert(1)</script> <img src=x onerror="alert(2)"> '
        "[js](javascript:alert(3)) [site](https://example.org/page) ![pic](https://t.example/p.png)"
    )
    link = share(alice, chat(alice, hostile))
    page = bob.get(link, headers=HTML)
    assert page.status_code == 200
    headers = page.headers
    assert headers["referrer-policy"] == "no-referrer"
    assert "noindex" in headers["x-robots-tag"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store"

    html = page.text
    body = html[html.index("<article") : html.index('<nav class="links">')]
    assert "<script" not in body and "<img" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in body
    assert 'href="javascript:' not in body
    links = re.findall(r"<a [^>]*>", body)
    assert links, body
    assert all('rel="noopener noreferrer nofollow"' in a for a in links), links
    assert '<meta name="referrer" content="no-referrer">' in html


_LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi", "httpx", "httpcore")


@pytest.fixture
def log_lines() -> Iterator[Callable[[PortalSettings], io.StringIO]]:
    """The process's log, configured as ``serve`` does, into a buffer (restored afterwards)."""
    saved = [
        (lg, lg.handlers[:], lg.level, lg.propagate, lg.filters[:])
        for lg in (logging.getLogger(name) for name in _LOGGERS)
    ]

    def configure(settings: PortalSettings) -> io.StringIO:
        stream = io.StringIO()
        configure_logging(settings, stream=stream)
        return stream

    yield configure
    logging.captureWarnings(False)
    for lg, handlers, level, propagate, filters in saved:
        lg.handlers[:] = handlers
        lg.setLevel(level)
        lg.propagate = propagate
        lg.filters[:] = filters


def test_the_token_is_in_no_log_line(
    portal: Portal,
    serve: Callable[..., LiveServer],
    client_for: Callable[[LiveServer], httpx.Client],
    log_lines: Callable[[PortalSettings], io.StringIO],
) -> None:
    mount_chat(portal)
    log = log_lines(PortalSettings(log_level="info"))
    server = serve(portal.app, log_level="info", log_config=None)
    alice = client_for(server)
    assert login(alice, "alice", PASSWORD).status_code == 303
    conversation_id = chat(alice, "Logged?")
    link = share(alice, conversation_id)
    token = link.removeprefix("/shared/")
    assert alice.get(link).status_code == 200
    with httpx.Client(base_url=server.url) as anonymous:
        assert anonymous.get(link, headers=HTML).status_code == 303
        assert login(anonymous, "bob", PASSWORD, next=link).status_code == 303
        assert anonymous.get(link, headers=HTML).status_code == 200
    assert alice.delete(f"{API}/{conversation_id}/share", headers=AJAX).status_code == 204
    assert alice.get(link).status_code == 404

    text = log.getvalue()
    assert token not in text, text
    assert re.search(r'"GET /shared/… HTTP/1\.1" 200', text), text
    assert re.search(r'"GET /shared/… HTTP/1\.1" 404', text), text
    assert "conversation.shared user='alice'" in text, text
    assert "conversation.unshared user='alice'" in text, text


def test_bob_cannot_reach_alices_link_through_the_api(
    portal: Portal, sign_in: Callable[[str], httpx.Client], server: LiveServer
) -> None:
    """The link reads a copy: the conversation's own routes stay the owner's."""
    alice, bob = sign_in("alice"), sign_in("bob")
    conversation_id = chat(alice, "Only a copy")
    share(alice, conversation_id)
    for path in (f"{API}/{conversation_id}", f"{API}/{conversation_id}/export.md"):
        assert bob.get(path).status_code == 404
    assert share_rows(portal)[0][1] == user_id(portal, "alice")
