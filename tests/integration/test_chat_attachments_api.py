"""Attachments over real HTTP: upload (multipart), download with safe headers, remove.

Refusals carry the store's readable text with the status that fits: 413 too large, 415 a type
the chat does not read, 400 a file it cannot read."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from tests.conftest import PASSWORD
from tests.unit.test_chat_attachments import message_of

from gradio_portal import Portal, PortalSettings
from gradio_portal.chat import mount_chat
from gradio_portal.chat.api.attachments import ATTACHMENTS_PREFIX
from gradio_portal.chat.attachments import AttachmentStore
from gradio_portal.testing import LiveServer, login

API = ATTACHMENTS_PREFIX
AJAX = {"X-Requested-With": "XMLHttpRequest"}
LIMIT = 64 * 1024
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def with_attachments(portal: Portal) -> AttachmentStore:
    """The chat mounted on ``portal`` (its attachment routes included), and a store on the
    same database and settings."""
    mount_chat(portal)
    return AttachmentStore.from_settings(portal.database, portal.settings)


def upload(
    client: httpx.Client, name: str, data: bytes, *, headers: dict[str, str] | None = None
) -> httpx.Response:
    return client.post(
        API,
        files={"file": (name, data, "application/octet-stream")},
        headers=AJAX if headers is None else headers,
    )


@pytest.fixture
def settings(make_settings: Callable[..., PortalSettings]) -> PortalSettings:
    return make_settings(chat_attachment_max_bytes=LIMIT, chat_echo_tokens_per_second=0)


@pytest.fixture
def server(portal: Portal, serve: Callable[[Any], LiveServer]) -> LiveServer:
    with_attachments(portal)
    return serve(portal.app)


@pytest.fixture
def alice(server: LiveServer, client_for: Callable[[LiveServer], httpx.Client]) -> httpx.Client:
    client = client_for(server)
    assert login(client, "alice", PASSWORD).status_code == 303
    return client


def test_a_text_file_uploads_and_downloads_as_a_file(alice: httpx.Client) -> None:
    answer = upload(alice, "notes.md", b"# Notes\n\nCaf\xc3\xa9")
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert set(body) == {"id", "filename", "media_type", "kind", "size", "url", "created_at"}
    assert (body["filename"], body["media_type"], body["kind"], body["size"]) == (
        "notes.md",
        "text/markdown",
        "text",
        14,
    )
    # The same description a message gives of its files, plus when it was uploaded.
    assert body["url"] == f"{API}/{body['id']}"
    got = alice.get(body["url"])
    assert got.status_code == 200
    assert got.content == b"# Notes\n\nCaf\xc3\xa9"
    assert got.headers["content-type"] == "text/markdown; charset=utf-8"
    assert got.headers["content-disposition"] == (
        "attachment; filename=\"notes.md\"; filename*=UTF-8''notes.md"
    )
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-security-policy"] == "sandbox; default-src 'none'"
    assert got.headers["cache-control"] == "private, no-store"


def test_an_image_is_shown_inline_with_its_own_type(alice: httpx.Client) -> None:
    body = upload(alice, "Café photo.txt", PNG).json()
    assert (body["kind"], body["media_type"]) == ("image", "image/png")
    got = alice.get(f"{API}/{body['id']}")
    assert got.content == PNG
    assert got.headers["content-type"] == "image/png"
    assert got.headers["content-disposition"] == (
        "inline; filename=\"Caf_ photo.txt\"; filename*=UTF-8''Caf%C3%A9%20photo.txt"
    )
    assert got.headers["x-content-type-options"] == "nosniff"


def test_path_parts_and_control_characters_leave_the_name(alice: httpx.Client) -> None:
    body = upload(alice, "../../etc/passwd.txt", b"root:x:0:0").json()
    assert body["filename"] == "passwd.txt"
    body = upload(alice, "a\r\nb.txt", b"text").json()
    assert body["filename"] == "a b.txt"
    long = upload(alice, "n" * 300 + ".txt", b"text").json()
    assert len(long["filename"]) == 200 and long["filename"].endswith(".txt")


@pytest.mark.parametrize(
    ("name", "data", "status", "start"),
    [
        ("report.pdf", b"%PDF-1.7", 415, "report.pdf is not a type the chat reads: attach text"),
        ("page.png", b"<html><script>x</script>", 415, "page.png is not a PNG, JPEG, GIF or WebP"),
        ("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", 415, "logo.svg is not a PNG"),
        ("latin.txt", "Café".encode("latin-1"), 400, "latin.txt is not UTF-8 text"),
        ("nul.txt", b"a\x00b", 400, "nul.txt contains NUL characters"),
        ("empty.txt", b"", 400, "empty.txt is empty"),
        ("big.txt", b"x" * (LIMIT + 1), 413, "big.txt is larger than the limit of 64 KB"),
    ],
)
def test_refusals_say_what_to_do(
    alice: httpx.Client, name: str, data: bytes, status: int, start: str
) -> None:
    answer = upload(alice, name, data)
    assert answer.status_code == status
    assert answer.json()["detail"].startswith(start)


def test_a_file_of_exactly_the_limit_is_taken(alice: httpx.Client) -> None:
    assert upload(alice, "full.txt", b"x" * LIMIT).status_code == 201


def test_a_declared_oversize_body_is_refused_before_it_is_read(
    server: LiveServer, alice: httpx.Client
) -> None:
    # Headers that announce 50 MB, and only the first bytes of the body: the answer comes
    # without waiting for the rest.
    cookie = "; ".join(f"{name}={value}" for name, value in alice.cookies.items())
    head = (
        f"POST {API} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n"
        "X-Requested-With: XMLHttpRequest\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\n"
        f"Content-Length: {50 * 1024 * 1024}\r\n\r\n--b\r\n"
    )
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head.encode())
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            piece = sock.recv(65536)
            if not piece:
                break
            answer += piece
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 413 ")
    detail = json.loads(rest.partition(b"\r\n\r\n")[2])["detail"]
    assert detail.startswith("The file is 50 MB; the limit is 64 KB per file.")


def test_the_upload_must_be_multipart_with_one_file_field(alice: httpx.Client) -> None:
    json_body = alice.post(API, json={"file": "x"}, headers=AJAX)
    assert json_body.status_code == 415
    assert "multipart/form-data" in json_body.json()["detail"]
    other_field = alice.post(API, files={"document": ("a.txt", b"x")}, headers=AJAX)
    assert other_field.status_code == 400
    assert "field named 'file'" in other_field.json()["detail"]
    plain_field = alice.post(
        API, data={"file": "not a file"}, files={"x": ("a", b"")}, headers=AJAX
    )
    assert plain_field.status_code == 400
    two = alice.post(
        API, files=[("file", ("a.txt", b"a")), ("file", ("b.txt", b"b"))], headers=AJAX
    )
    assert two.status_code == 400 and two.json()["detail"] == "Send one file per upload."
    broken = alice.post(
        API,
        content=b"this is not multipart",
        headers={**AJAX, "content-type": "multipart/form-data; boundary=zzz"},
    )
    assert broken.status_code == 400


def test_a_pending_file_can_be_removed(alice: httpx.Client) -> None:
    attachment_id = upload(alice, "a.txt", b"a").json()["id"]
    assert alice.delete(f"{API}/{attachment_id}").status_code == 403
    assert alice.delete(f"{API}/{attachment_id}", headers=AJAX).status_code == 204
    assert alice.get(f"{API}/{attachment_id}").status_code == 404
    assert alice.delete(f"{API}/{attachment_id}", headers=AJAX).status_code == 404


def test_a_sent_file_is_removed_only_with_its_conversation(
    portal: Portal, alice: httpx.Client
) -> None:
    store = AttachmentStore.from_settings(portal.database, portal.settings)
    attachment_id = upload(alice, "a.txt", b"a").json()["id"]
    account = portal.accounts.get("alice")
    assert account is not None
    alice_id = account.user.id
    with portal.database.session() as session:
        store.claim(session, alice_id, [attachment_id], *message_of(portal.database, alice_id))
    answer = alice.delete(f"{API}/{attachment_id}", headers=AJAX)
    assert answer.status_code == 409
    assert "deleted with its conversation" in answer.json()["detail"]


@pytest.mark.parametrize(("method", "path"), [("POST", API), ("GET", f"{API}/1")])
def test_without_a_session_the_answer_is_401(server: LiveServer, method: str, path: str) -> None:
    response = httpx.request(method, server.url + path, headers=AJAX)
    assert response.status_code == 401


@pytest.mark.parametrize("bad", ["0", "-1", "abc", str(2**63)])
def test_ids_outside_the_database_range_are_invalid_input(alice: httpx.Client, bad: str) -> None:
    assert alice.get(f"{API}/{bad}").status_code == 422


def test_the_routes_are_documented_in_openapi(alice: httpx.Client) -> None:
    paths = alice.get("/openapi.json").json()["paths"]
    assert set(paths[API]) == {"post"}
    assert set(paths[API + "/{attachment_id}"]) == {"get", "delete"}
    post = paths[API]["post"]
    assert post["summary"] == "Upload a file to attach to your next message"
    schema = post["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert schema["required"] == ["file"]
    assert {"413", "415"} <= set(post["responses"])
