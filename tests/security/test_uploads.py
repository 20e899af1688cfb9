"""Another user's uploads are out of reach: not fetchable through ``file=``, not usable as
an event input. Gradio alone serves them to anyone it authenticates (shown first)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import gradio as gr
import httpx
import pytest
from fastapi import FastAPI
from tests.conftest import PASSWORD
from tests.security.conftest import MOUNT, build_files_app

from gradio_portal import Portal
from gradio_portal.mounts.uploads import UploadOwners
from gradio_portal.storage import Database, upgrade
from gradio_portal.testing import GradioEvents, LiveServer, login
from gradio_portal.users.accounts import Accounts


def upload(client: httpx.Client, content: bytes, name: str = "secret.txt") -> str:
    answer = client.post(
        MOUNT + "/gradio_api/upload", files={"files": (name, content, "text/plain")}
    )
    assert answer.status_code == 200, answer.text
    [path] = answer.json()
    return str(path)


def file_url(path: str) -> str:
    return f"{MOUNT}/gradio_api/file={quote(path)}"


def file_value(path: str) -> dict[str, Any]:
    return {"path": path, "orig_name": "secret.txt", "meta": {"_type": "gradio.FileData"}}


def test_bare_gradio_serves_any_upload_to_anyone_it_lets_in(
    serve: Callable[[Any], LiveServer],
) -> None:
    # Why the portal needs its own rule: every user passes auth_dependency alike.
    app = FastAPI()
    gr.mount_gradio_app(app, build_files_app(), MOUNT, auth_dependency=lambda r: "anyone")
    server = serve(app)
    with httpx.Client(base_url=server.url) as alice, httpx.Client(base_url=server.url) as bob:
        path = upload(alice, b"alice's " + secrets.token_bytes(8))
        assert bob.get(file_url(path)).status_code == 200


def test_a_user_fetches_their_own_upload(signed_in: Callable[..., httpx.Client]) -> None:
    alice = signed_in("alice")
    content = b"alice's diary " + secrets.token_hex(8).encode()
    path = upload(alice, content)
    answer = alice.get(file_url(path))
    assert answer.status_code == 200 and answer.content == content
    assert alice.head(file_url(path)).status_code == 200


def test_another_user_cannot_fetch_it(signed_in: Callable[..., httpx.Client]) -> None:
    alice, bob = signed_in("alice"), signed_in("bob")
    path = upload(alice, b"alice's diary " + secrets.token_hex(8).encode())
    for url in (
        file_url(path),
        f"{MOUNT}/gradio_api/file={path}",  # unencoded
        f"{MOUNT}/gradio_api/file/{path.lstrip('/')}",  # the older route
        file_url(path.replace("/", "//")),  # another spelling of the same file
    ):
        answer = bob.get(url)
        assert answer.status_code in (403, 404), url
        assert b"alice's diary" not in answer.content
    assert bob.head(file_url(path)).status_code in (403, 404)


def test_another_user_cannot_use_it_as_an_event_input(
    signed_in: Callable[..., httpx.Client],
) -> None:
    alice, bob = signed_in("alice"), signed_in("bob")
    content = b"alice's diary " + secrets.token_hex(8).encode()
    path = upload(alice, content)
    assert GradioEvents(alice, MOUNT).call("read_file", [file_value(path)]).output == [
        content.decode()
    ]
    events = GradioEvents(bob, MOUNT)
    for value in (file_value(path), {"url": "http://x" + file_url(path), "path": "elsewhere"}):
        joined, _ = events.join("read_file", [value])
        assert joined.status_code == 403
    answer = bob.post(MOUNT + "/gradio_api/call/read_file", json={"data": [file_value(path)]})
    assert answer.status_code == 403


def test_uploading_the_same_bytes_makes_both_owners(
    signed_in: Callable[..., httpx.Client],
) -> None:
    # Gradio names uploads by content: whoever has the bytes already "knows" the file.
    alice, bob = signed_in("alice"), signed_in("bob")
    content = b"shared " + secrets.token_hex(8).encode()
    path = upload(alice, content)
    assert upload(bob, content) == path
    assert bob.get(file_url(path)).status_code == 200
    assert alice.get(file_url(path)).status_code == 200


def test_ownership_survives_a_restart(
    portal: Portal,
    signed_in: Callable[..., httpx.Client],
    serve: Callable[[Any], LiveServer],
    client_for: Callable[[LiveServer], httpx.Client],
) -> None:
    alice = signed_in("alice")
    path = upload(alice, b"kept " + secrets.token_hex(8).encode())
    # A second process on the same database (say, after a restart) knows the owner.
    again = Portal(settings=portal.settings)
    again.mount(build_files_app(), MOUNT)
    bob = client_for(serve(again.app))

    assert login(bob, "bob", PASSWORD).status_code == 303
    assert bob.get(file_url(path)).status_code == 404


@pytest.mark.parametrize("method", ["get", "head"])
def test_anonymous_requests_never_reach_files(
    signed_in: Callable[..., httpx.Client], secured: LiveServer, method: str
) -> None:
    path = upload(signed_in("alice"), b"x" + secrets.token_bytes(8))
    with httpx.Client(base_url=secured.url) as anonymous:
        assert getattr(anonymous, method)(file_url(path)).status_code == 401


def test_ownership_records_on_postgresql(postgres_url: str) -> None:
    # The insert is dialect-specific (ON CONFLICT DO NOTHING): prove it on PostgreSQL too.
    upgrade(postgres_url)
    database = Database(postgres_url)
    users = Accounts(database)
    owner = users.create(f"owner-{secrets.token_hex(4)}", None)
    other = users.create(f"other-{secrets.token_hex(4)}", None)
    owners = UploadOwners(database)
    path = f"/tmp/gradio/{secrets.token_hex(16)}/file.txt"
    owners.record([path, path], owner.id)
    owners.record([path], owner.id)  # the same upload again is no error
    assert owners.owners(path) == {owner.id}
    assert owners.may_use(path, owner.id) and not owners.may_use(path, other.id)
    assert owners.may_use("/tmp/gradio/never-uploaded.txt", other.id)
    database.dispose()
