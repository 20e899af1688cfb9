"""Personal access tokens: scripts call mounted apps, the REST API and MCP without a browser.

``gradio_client`` with ``headers={"Authorization": "Bearer gpp_..."}`` streams and downloads
files as its user; a token lands in one session of its own (so an event's join and stream
meet), needs no CSRF token, is stored hashed, records its last use, and stops working when
revoked, expired or when its user is disabled. Junk gets 401 saying how to get a token.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import gradio as gr
import httpx
import pytest
from gradio_client import Client
from sqlalchemy import select, update
from tests.conftest import PASSWORD
from tests.integration.test_chat_support import ChatTab, first_update

from gradio_portal import Context, Portal
from gradio_portal.chat import mount_chat
from gradio_portal.storage.models import AccessTokenRow, utcnow
from gradio_portal.testing import LiveServer, csrf_token, login

MOUNT = "/app"


def whoami(greeting: str, ctx: Context) -> str:
    return f"{greeting}, {ctx.user.username}"


def count(n: float, ctx: Context) -> Iterator[str]:
    for i in range(1, int(n) + 1):
        yield f"{ctx.user.username} {i}"


def visits(ctx: Context) -> int:
    ctx.session["visits"] = ctx.session.get("visits", 0) + 1
    return int(ctx.session["visits"])


def report(text: str, ctx: Context) -> str:
    path = Path(os.environ.get("GRADIO_TEMP_DIR", "/tmp")) / f"report-{ctx.user.username}.txt"
    path.write_text(f"{text} for {ctx.user.username}\n")
    return str(path)


def app() -> gr.Blocks:
    with gr.Blocks() as demo:
        text, number, out = gr.Textbox(), gr.Number(), gr.Textbox()
        visits_out = gr.Number()
        download = gr.File()
        gr.Button("who").click(whoami, text, out, api_name="whoami")
        gr.Button("count").click(count, number, out, api_name="count")
        gr.Button("visits").click(visits, None, visits_out, api_name="visits")
        gr.Button("report").click(report, text, download, api_name="report")
    return demo


@pytest.fixture
def server(portal: Portal, serve: Callable[[Any], LiveServer]) -> LiveServer:
    portal.mount(app(), MOUNT)
    return serve(portal.app)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_gradio_client_calls_streams_and_downloads_as_the_tokens_user(
    portal: Portal, server: LiveServer, tmp_path: Path
) -> None:
    token, _ = portal.tokens.create("alice", label="notebook")
    client = Client(server.url + MOUNT + "/", headers=bearer(token), verbose=False)
    assert client.predict("Hello", api_name="/whoami") == "Hello, alice"
    job = client.submit(3, api_name="/count")
    assert job.result() == "alice 3"
    assert job.outputs() == ["alice 1", "alice 2", "alice 3"]
    # One token, one session: what a call writes, the next call of the same token reads.
    assert [client.predict(api_name="/visits") for _ in range(3)] == [1, 2, 3]
    downloaded = Path(client.predict("Quarterly", api_name="/report"))
    assert downloaded.read_text() == "Quarterly for alice\n"


def test_two_tokens_of_two_users_stay_apart(portal: Portal, server: LiveServer) -> None:
    alice = Client(
        server.url + MOUNT + "/", headers=bearer(portal.tokens.create("alice")[0]), verbose=False
    )
    bob = Client(
        server.url + MOUNT + "/", headers=bearer(portal.tokens.create("bob")[0]), verbose=False
    )
    assert alice.predict("Hi", api_name="/whoami") == "Hi, alice"
    assert bob.predict("Hi", api_name="/whoami") == "Hi, bob"
    assert alice.predict(api_name="/visits") == 1
    assert bob.predict(api_name="/visits") == 1
    assert alice.predict(api_name="/visits") == 2


def test_a_token_is_stored_hashed_with_a_recognisable_prefix_and_its_last_use(
    portal: Portal, server: LiveServer
) -> None:
    token, record = portal.tokens.create("alice", label="ci job", expires_days=30)
    assert token.startswith("gpp_") and len(token) == 47
    with portal.database.session() as session:
        row = session.scalar(select(AccessTokenRow).where(AccessTokenRow.id == record.id))
        assert row is not None
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in (row.token_hash, row.prefix, row.label)
        assert row.last_used_at is None
        assert row.expires_at is not None
        assert timedelta(days=29) < row.expires_at - utcnow() <= timedelta(days=30)
    answer = httpx.get(server.url + MOUNT + "/config", headers=bearer(token), timeout=30)
    assert answer.status_code == 200
    (listed,) = portal.tokens.list("alice")
    assert listed.last_used_at is not None
    assert listed.label == "ci job" and listed.shown.startswith("gpp_")


def test_a_token_uses_the_chat_and_its_rest_api_without_a_csrf_header(
    portal: Portal, serve: Callable[[Any], LiveServer]
) -> None:
    mount_chat(portal)
    server = serve(portal.app)
    token, _ = portal.tokens.create("alice")
    with httpx.Client(base_url=server.url, headers=bearer(token), timeout=30) as script:
        page = first_update("send", ChatTab(script).send("from a script"))
        conversation = int(page["page_query"].removeprefix("?c="))
        listed = script.get("/api/conversations").json()
        assert [c["id"] for c in listed["items"]] == [conversation]
        # No X-Requested-With, no Origin: a token is no browser being tricked.
        assert script.delete(f"/api/conversations/{conversation}").status_code == 204
        assert script.get("/api/conversations").json()["items"] == []


@pytest.mark.parametrize(
    "junk",
    [
        "gpp_" + "A" * 43,  # the right shape, never issued
        "gpp_short",
        "gpp_" + "A" * 43 + "'; DROP TABLE users; --",
    ],
)
def test_junk_tokens_get_401_saying_how_to_get_one(server: LiveServer, junk: str) -> None:
    for path in (MOUNT + "/config", MOUNT + "/gradio_api/info", "/account"):
        answer = httpx.get(server.url + path, headers=bearer(junk), timeout=30)
        assert answer.status_code == 401, path
        assert "gradio-portal tokens create" in answer.json()["detail"]
        assert answer.headers["www-authenticate"].startswith("Bearer")


def test_an_anonymous_script_is_told_how_to_sign_in(server: LiveServer) -> None:
    for path in (MOUNT + "/config", MOUNT + "/gradio_api/queue/join"):
        answer = httpx.get(server.url + path, timeout=30)
        assert answer.status_code == 401
        detail = answer.json()["detail"]
        assert "/login" in detail and "Authorization: Bearer" in detail
    with pytest.raises(Exception, match="credentials were not provided"):
        Client(server.url + MOUNT + "/", verbose=False)


def test_a_revoked_token_stops_at_once(portal: Portal, server: LiveServer) -> None:
    token, record = portal.tokens.create("alice")
    assert (
        httpx.get(server.url + MOUNT + "/config", headers=bearer(token), timeout=30).status_code
        == 200
    )
    portal.tokens.revoke(record.id, username="alice")
    portal.bearer.forget()
    assert (
        httpx.get(server.url + MOUNT + "/config", headers=bearer(token), timeout=30).status_code
        == 401
    )


def test_an_expired_token_stops(portal: Portal, server: LiveServer) -> None:
    token, record = portal.tokens.create("alice", expires_days=1)
    with portal.database.session() as session:
        session.execute(
            update(AccessTokenRow)
            .where(AccessTokenRow.id == record.id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert (
        httpx.get(server.url + MOUNT + "/config", headers=bearer(token), timeout=30).status_code
        == 401
    )
    assert portal.tokens.list("alice")[0].state() == "expired"


def test_a_disabled_users_tokens_stop(portal: Portal, server: LiveServer) -> None:
    token, _ = portal.tokens.create("alice")
    assert (
        httpx.get(server.url + MOUNT + "/config", headers=bearer(token), timeout=30).status_code
        == 200
    )
    portal.accounts.set_active("alice", False)
    portal.sessions.end_all(portal.accounts.get("alice").user.id)  # type: ignore[union-attr]
    portal.bearer.forget()
    assert (
        httpx.get(server.url + MOUNT + "/config", headers=bearer(token), timeout=30).status_code
        == 401
    )


def test_a_cookie_wins_over_a_token_and_the_token_never_reaches_gradio(
    portal: Portal, server: LiveServer
) -> None:
    # A signed-in browser session and bob's token in one request: the cookie decides.
    token, _ = portal.tokens.create("bob")
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        assert login(browser, "alice", PASSWORD).status_code == 303
        answer = browser.post(
            MOUNT + "/gradio_api/run/whoami", json={"data": ["Hi"]}, headers=bearer(token)
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"] == ["Hi, alice"]


# -- the account page --------------------------------------------------------------------


def signed_in(server: LiveServer, username: str) -> httpx.Client:
    client = httpx.Client(base_url=server.url, timeout=30)
    assert login(client, username, PASSWORD).status_code == 303
    return client


def test_a_user_makes_lists_and_revokes_their_tokens_on_the_account_page(
    server: LiveServer,
) -> None:
    alice = signed_in(server, "alice")
    page = alice.get("/account/tokens")
    assert page.status_code == 200 and "No tokens yet." in page.text
    made = alice.post(
        "/account/tokens",
        data={"label": "my notebook", "expires_days": "30", "csrf_token": csrf_token(page)},
    )
    assert made.status_code == 200
    assert made.headers["cache-control"] == "no-store"
    secret = re.search(r'<code id="new-token">(gpp_[^<]+)</code>', made.text)
    assert secret is not None
    token = secret.group(1)
    assert (
        httpx.get(server.url + MOUNT + "/config", headers=bearer(token), timeout=30).status_code
        == 200
    )
    listed = alice.get("/account/tokens")
    assert "my notebook" in listed.text and token not in listed.text  # shown once only
    token_id = re.search(r'name="token_id" value="(\d+)"', listed.text)
    assert token_id is not None
    revoked = alice.post(
        "/account/tokens/revoke",
        data={"token_id": token_id.group(1), "csrf_token": csrf_token(listed)},
    )
    assert revoked.status_code == 303
    assert (
        httpx.get(server.url + MOUNT + "/config", headers=bearer(token), timeout=30).status_code
        == 401
    )


def test_another_users_token_cannot_be_revoked_and_a_token_cannot_make_tokens(
    portal: Portal, server: LiveServer
) -> None:
    token, record = portal.tokens.create("alice")
    bob = signed_in(server, "bob")
    page = bob.get("/account/tokens")
    answer = bob.post(
        "/account/tokens/revoke",
        data={"token_id": str(record.id), "csrf_token": csrf_token(page)},
    )
    assert answer.status_code == 404
    assert portal.tokens.list("alice")[0].state() == "active"
    # Not from bob's admin-only page either.
    assert bob.get("/admin/tokens").status_code == 403
    # A token never reaches the token pages: a leaked one cannot renew itself.
    with httpx.Client(base_url=server.url, headers=bearer(token), timeout=30) as script:
        assert script.get("/account/tokens").status_code == 403
        assert script.post("/account/tokens", data={"label": "x"}).status_code == 403


def test_an_administrator_revokes_anyones_token(portal: Portal, server: LiveServer) -> None:
    portal.accounts.create("root", PASSWORD, roles=("admin",))
    token, record = portal.tokens.create("alice", label="leaked")
    admin = signed_in(server, "root")
    page = admin.get("/admin/tokens")
    assert page.status_code == 200 and "leaked" in page.text and "alice" in page.text
    answer = admin.post(
        "/admin/tokens/revoke", data={"token_id": str(record.id), "csrf_token": csrf_token(page)}
    )
    assert answer.status_code == 303
    assert (
        httpx.get(server.url + MOUNT + "/config", headers=bearer(token), timeout=30).status_code
        == 401
    )
