"""Chat attachments between two real users: bob can neither read, remove nor take along
alice's files; nothing uploaded runs in the browser; a huge upload costs the server no more
than the limit; a cross-site page cannot upload or remove."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from tests.conftest import PASSWORD
from tests.integration.test_chat_attachments_api import AJAX, API, PNG, upload, with_attachments
from tests.unit.test_chat_attachments import message_of

from gradio_portal import MessageRejected, Portal, PortalSettings
from gradio_portal.chat.attachments import AttachmentStore
from gradio_portal.testing import LiveServer, login

LIMIT = 1024 * 1024


@pytest.fixture
def settings(make_settings: Callable[..., PortalSettings]) -> PortalSettings:
    return make_settings(chat_attachment_max_bytes=LIMIT, chat_echo_tokens_per_second=0)


@pytest.fixture
def store(portal: Portal) -> AttachmentStore:
    return with_attachments(portal)


@pytest.fixture
def server(
    portal: Portal, store: AttachmentStore, serve: Callable[[Any], LiveServer]
) -> LiveServer:
    return serve(portal.app)


@pytest.fixture
def sign_in(
    server: LiveServer, client_for: Callable[[LiveServer], httpx.Client]
) -> Callable[[str], httpx.Client]:
    def signed_in(username: str) -> httpx.Client:
        client = client_for(server)
        assert login(client, username, PASSWORD).status_code == 303
        return client

    return signed_in


def user_id(portal: Portal, username: str) -> int:
    account = portal.accounts.get(username)
    assert account is not None
    return account.user.id


def test_bob_gets_the_same_404_for_alices_file_as_for_none(
    sign_in: Callable[[str], httpx.Client],
) -> None:
    alice, bob = sign_in("alice"), sign_in("bob")
    attachment_id = upload(alice, "diary.txt", b"alice's diary").json()["id"]
    missing_id = attachment_id + 1000
    for method in ("GET", "DELETE"):
        foreign = bob.request(method, f"{API}/{attachment_id}", headers=AJAX)
        missing = bob.request(method, f"{API}/{missing_id}", headers=AJAX)
        assert foreign.status_code == missing.status_code == 404
        assert foreign.json() == missing.json() == {"detail": "No such attachment."}
        assert "diary" not in foreign.text
    got = alice.get(f"{API}/{attachment_id}")
    assert got.status_code == 200 and got.content == b"alice's diary"


def test_bob_cannot_take_alices_file_along_with_his_message(
    portal: Portal, store: AttachmentStore, sign_in: Callable[[str], httpx.Client]
) -> None:
    alice = sign_in("alice")
    attachment_id = upload(alice, "diary.txt", b"alice's diary").json()["id"]
    bob_id = user_id(portal, "bob")
    conversation_id, message_id = message_of(portal.database, bob_id)
    refused = pytest.raises(MessageRejected, match="no longer available")
    with refused, portal.database.session() as session:
        store.claim(session, bob_id, [attachment_id], conversation_id, message_id)
    assert store.for_messages(bob_id, [message_id]) == {}
    # Still alice's, still pending: she can send it herself.
    assert [i.id for i in store.pending(user_id(portal, "alice"))] == [attachment_id]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("cat.png", b"<!doctype html><script>fetch('/api/conversations')</script>"),
        ("cat.gif", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"),
        ("cat.svg", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"),
    ],
)
def test_documents_posing_as_images_are_refused(
    sign_in: Callable[[str], httpx.Client], name: str, data: bytes
) -> None:
    answer = upload(sign_in("alice"), name, data)
    assert answer.status_code == 415
    assert "is not a PNG, JPEG, GIF or WebP image" in answer.json()["detail"]


def test_a_stored_html_file_is_downloaded_never_rendered(
    sign_in: Callable[[str], httpx.Client],
) -> None:
    alice = sign_in("alice")
    body = upload(alice, "page.html", b"<script>alert(document.cookie)</script>").json()
    got = alice.get(f"{API}/{body['id']}")
    assert got.headers["content-disposition"].startswith("attachment;")
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-security-policy"] == "sandbox; default-src 'none'"
    image = upload(alice, "p.png", PNG).json()
    shown = alice.get(f"{API}/{image['id']}")
    assert shown.headers["content-disposition"].startswith("inline;")
    assert shown.headers["content-security-policy"] == "sandbox; default-src 'none'"


def test_a_huge_upload_is_refused_without_the_server_holding_it(
    sign_in: Callable[[str], httpx.Client],
) -> None:
    alice = sign_in("alice")
    chunk = b"A" * 65536
    total = 64 * 1024 * 1024

    def body() -> Iterator[bytes]:
        # Chunked, without a Content-Length: the server finds out the size only by reading.
        yield (
            b'--b\r\nContent-Disposition: form-data; name="file"; filename="huge.txt"\r\n'
            b"Content-Type: text/plain\r\n\r\n"
        )
        for _ in range(total // len(chunk)):
            yield chunk
        yield b"\r\n--b--\r\n"

    headers = {**AJAX, "content-type": "multipart/form-data; boundary=b"}
    tracemalloc.start()
    try:
        answer = alice.post(API, content=body(), headers=headers)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert answer.status_code == 413
    assert answer.json()["detail"].startswith("huge.txt is larger than the limit of 1 MB")
    # This process runs the server too: at no time did it hold more than a few limits' worth.
    assert peak < 8 * LIMIT, f"peak {peak / 2**20:.1f} MiB for a {total / 2**20:.0f} MiB upload"


def test_a_cross_site_page_cannot_upload_or_remove(
    sign_in: Callable[[str], httpx.Client],
) -> None:
    alice = sign_in("alice")
    no_header = upload(alice, "a.txt", b"a", headers={})
    assert no_header.status_code == 403
    assert "X-Requested-With" in no_header.json()["detail"]
    cross_site = {**AJAX, "Origin": "https://evil.example"}
    assert upload(alice, "a.txt", b"a", headers=cross_site).status_code == 403
    attachment_id = upload(alice, "a.txt", b"a").json()["id"]
    assert alice.delete(f"{API}/{attachment_id}").status_code == 403
    assert alice.delete(f"{API}/{attachment_id}", headers=cross_site).status_code == 403
    assert alice.get(f"{API}/{attachment_id}").status_code == 200
