"""The audit trail: security events reach the database and the log, never a secret.

Real sign-ins through the form, real administrator actions through the admin pages, a real
refusal under a restricted mount; then the admin page with its filters, and a pruning.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import gradio as gr
import httpx
import pytest
from tests.conftest import PASSWORD

from gradio_portal import Portal
from gradio_portal.testing import LiveServer, csrf_token, login, logout


@pytest.fixture
def server(portal: Portal, serve: Callable[[Any], LiveServer]) -> LiveServer:
    portal.accounts.create("root", PASSWORD, roles=("admin",))
    portal.mount(gr.Interface(lambda x: x, "textbox", "textbox"), "/secret", groups=["finance"])
    return serve(portal.app)


def signed_in(server: LiveServer, username: str) -> httpx.Client:
    client = httpx.Client(base_url=server.url, timeout=30)
    assert login(client, username, PASSWORD).status_code == 303
    return client


def test_security_events_are_recorded_with_who_what_and_where(
    portal: Portal, server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gradio_portal.security")
    with httpx.Client(base_url=server.url, timeout=30) as stranger:
        assert login(stranger, "alice", "not her password").status_code == 401
    alice = signed_in(server, "alice")
    assert alice.get("/secret/config").status_code == 403
    root = signed_in(server, "root")
    page = root.get("/admin/users")
    bob_id = portal.accounts.get("bob").user.id  # type: ignore[union-attr]
    form = {"csrf_token": csrf_token(page)}
    assert root.post(f"/admin/users/{bob_id}/disable", data=form).status_code == 303
    assert (
        root.post(f"/admin/users/{bob_id}/groups", data={**form, "groups": "finance"}).status_code
        == 303
    )
    tokens = alice.get("/account/tokens")
    made = alice.post("/account/tokens", data={"label": "cron", "csrf_token": csrf_token(tokens)})
    assert made.status_code == 200
    assert logout(alice).status_code == 303

    events = [(e.event, e.username, e.target) for e in reversed(portal.audit.list())]
    assert events == [
        ("sign_in.failed", "alice", None),
        ("sign_in.succeeded", "alice", None),
        ("access.refused", "alice", None),
        ("sign_in.succeeded", "root", None),
        ("admin.user_disabled", "root", "bob"),
        ("admin.groups_changed", "root", "bob"),
        ("token.created", "alice", None),
        ("sign_out", "alice", None),
    ]
    recorded = portal.audit.list()
    assert {e.address for e in recorded} == {"127.0.0.1"}
    refused = next(e for e in recorded if e.event == "access.refused")
    assert refused.details == {"app": "/secret"}
    # The same events are log lines; neither the log nor the trail holds a password or token.
    logged = caplog.text
    assert "sign_in.failed" in logged and "admin.groups_changed" in logged
    token_shown = next(e for e in recorded if e.event == "token.created").details["token"]
    assert str(token_shown).endswith("…")
    for secret in (PASSWORD, "not her password"):
        assert secret not in logged
        assert all(secret not in e.line() for e in recorded)


def test_the_admin_page_shows_and_filters_the_trail(portal: Portal, server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as stranger:
        login(stranger, "bob", "wrong password")
    root = signed_in(server, "root")
    everything = root.get("/admin/audit")
    assert everything.status_code == 200
    failed, succeeded = "<td>sign_in.failed</td>", "<td>sign_in.succeeded</td>"
    assert failed in everything.text and succeeded in everything.text
    only_bob = root.get("/admin/audit", params={"user": "bob"}).text
    assert failed in only_bob and succeeded not in only_bob
    successes = root.get("/admin/audit", params={"event": "sign_in.succeeded"}).text
    assert succeeded in successes and failed not in successes
    # Not for other users.
    assert signed_in(server, "alice").get("/admin/audit").status_code == 403
