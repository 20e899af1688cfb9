"""Cookie flags, and nothing secret or meaningful inside the session cookie."""

from __future__ import annotations

import base64
import hashlib
import sqlite3
from collections.abc import Callable
from typing import Any

import httpx
from tests.conftest import PASSWORD

from gradio_portal import Portal, PortalSettings
from gradio_portal.testing import LiveServer, csrf_token, login


def flags(response: httpx.Response, name: str) -> set[str]:
    header = next(c for c in response.headers.get_list("set-cookie") if c.startswith(name + "="))
    return {part.strip().lower() for part in header.split(";")[1:]}


def sign_in(server: LiveServer, **headers: str) -> tuple[httpx.Client, httpx.Response]:
    client = httpx.Client(base_url=server.url, headers=headers)
    page = client.get("/login")
    token = csrf_token(page)
    # Sent by hand: httpx, like a browser, keeps a Secure cookie off plain http, and behind a
    # TLS proxy the browser's side is https.
    nonce = page.cookies["gradio_portal_csrf"]
    answer = client.post(
        "/login",
        data={"username": "alice", "password": PASSWORD, "csrf_token": token},
        headers={"cookie": f"gradio_portal_csrf={nonce}"},
    )
    assert answer.status_code == 303
    return client, answer


def test_session_and_csrf_cookies_are_httponly_lax_and_not_secure_on_http(
    secured: LiveServer,
) -> None:
    client, answer = sign_in(secured)
    client.close()
    assert {"httponly", "samesite=lax", "path=/"} <= flags(answer, "gradio_portal_session")
    assert "secure" not in flags(answer, "gradio_portal_session")
    login_page = httpx.get(secured.url + "/login")
    assert {"httponly", "samesite=lax", "path=/"} <= flags(login_page, "gradio_portal_csrf")


def test_cookie_secure_setting_forces_the_secure_flag(
    make_settings: Callable[..., PortalSettings], serve: Callable[[Any], LiveServer]
) -> None:
    portal = Portal(settings=make_settings(cookie_secure=True))
    portal.accounts.create("alice", PASSWORD)
    server = serve(portal.app)
    page = httpx.get(f"{server.url}/login")
    assert {"secure", "httponly", "samesite=lax"} <= flags(page, "gradio_portal_csrf")
    client, answer = sign_in(server)
    client.close()
    assert {"secure", "httponly", "samesite=lax"} <= flags(answer, "gradio_portal_session")


def test_https_behind_a_trusted_proxy_sets_secure(
    make_settings: Callable[..., PortalSettings],
) -> None:
    portal = Portal(settings=make_settings())
    portal.accounts.create("alice", PASSWORD)
    # uvicorn as `gradio-portal serve` runs it: proxy headers trusted from 127.0.0.1 only.
    with LiveServer(portal.app, proxy_headers=True, forwarded_allow_ips="127.0.0.1") as server:
        client, answer = sign_in(server, **{"x-forwarded-proto": "https"})
        client.close()
        assert "secure" in flags(answer, "gradio_portal_session")
        # The same header from an untrusted peer is ignored.
        untrusted = httpx.Client(
            base_url=server.url,
            headers={"x-forwarded-proto": "https"},
            transport=httpx.HTTPTransport(local_address="127.0.0.2"),
        )
        with untrusted:
            answer = login(untrusted, "alice", PASSWORD)
            assert answer.status_code == 303
            assert "secure" not in flags(answer, "gradio_portal_session")


def test_the_session_cookie_is_a_random_token_stored_only_as_a_hash(
    portal: Portal, secured: LiveServer
) -> None:
    tokens = []
    for _ in range(2):
        client, _answer = sign_in(secured)
        tokens.append(client.cookies["gradio_portal_session"])
        client.close()
    secret = portal.settings.resolve_secret_key()
    database = str(portal.settings.resolved_database_url).removeprefix("sqlite:///")
    with sqlite3.connect(database) as db:
        stored = {row[0] for row in db.execute("SELECT id FROM sessions")}
        dump = "\n".join(db.iterdump())
    for token in tokens:
        assert len(token) == 43  # 256 random bits, URL-safe base64
        raw = base64.urlsafe_b64decode(token + "=")
        for meaningful in ("alice", secret[:16], PASSWORD, portal.settings.session_cookie):
            assert meaningful not in token and meaningful.encode() not in raw
        assert token not in dump  # a stolen database yields no usable cookie
        assert hashlib.sha256(token.encode()).hexdigest() in stored
    assert tokens[0] != tokens[1]
