"""Access tokens, groups and the audit trail on a real SQLite file, without a server."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from gradio_portal import UserError
from gradio_portal.storage import Database, upgrade
from gradio_portal.storage.models import AuditEventRow, utcnow
from gradio_portal.users import Accounts
from gradio_portal.users.accounts import normalize_groups
from gradio_portal.users.audit import AuditTrail
from gradio_portal.users.tokens import AccessTokens, looks_like_token
from gradio_portal.users.user import User

PASSWORD = "correct horse battery"


@pytest.fixture
def database(tmp_path: Path) -> Database:
    url = f"sqlite:///{tmp_path / 'portal.db'}"
    upgrade(url)
    return Database(url)


def test_token_shape() -> None:
    assert looks_like_token("gpp_" + "a" * 43)
    for junk in ("", "gpp_", "gpp_" + "a" * 42, "ghp_" + "a" * 43, "gpp_" + "a" * 42 + "!"):
        assert not looks_like_token(junk), junk


def test_tokens_verify_until_revoked_expired_or_their_user_is_disabled(
    database: Database,
) -> None:
    accounts, tokens = Accounts(database), AccessTokens(database)
    accounts.create("Alice", PASSWORD, groups=["Analysts"])
    secret, made = tokens.create("ALICE", label="  a   label ", expires_days=7)
    assert made.label == "a label" and made.username == "alice" and made.state() == "active"
    grant = tokens.verify(secret)
    assert grant is not None and grant.user.username == "alice"
    assert grant.user.groups == ("analysts",)
    assert tokens.verify(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
    accounts.set_active("alice", False)
    assert tokens.verify(secret) is None
    accounts.set_active("alice", True)
    assert tokens.verify(secret) is not None
    tokens.revoke(made.id, username="alice")
    assert tokens.verify(secret) is None and tokens.list("alice")[0].state() == "revoked"
    with pytest.raises(UserError, match="no token"):
        tokens.revoke(made.id, username="bob")


def test_token_arguments_are_checked(database: Database) -> None:
    Accounts(database).create("alice", PASSWORD)
    tokens = AccessTokens(database)
    with pytest.raises(UserError, match="no user"):
        tokens.create("nobody")
    with pytest.raises(UserError, match="1 to"):
        tokens.create("alice", expires_days=0)
    with pytest.raises(UserError, match="label"):
        tokens.create("alice", label="x" * 101)
    assert tokens.revoke_all(Accounts(database).get("alice").user.id) == 0  # type: ignore[union-attr]


def test_group_names_are_case_folded_sorted_and_checked() -> None:
    assert normalize_groups(["Finance", "analysts", "finance", " "]) == ("analysts", "finance")
    for bad in ("two words", "-leading", "a/b", "x" * 65):
        with pytest.raises(UserError, match="invalid group"):
            normalize_groups([bad])


def test_who_may_open_an_app() -> None:
    analyst = User(1, "ann", "Ann", groups=("analysts",))
    admin = User(2, "root", "Root", roles=("admin",))
    nobody = User(3, "bob", "Bob")
    anyone = None
    for user in (analyst, admin, nobody):
        assert user.may_open(anyone)
    assert analyst.may_open(frozenset({"analysts", "finance"}))
    assert admin.may_open(frozenset({"finance"}))
    assert not nobody.may_open(frozenset({"finance"}))


def test_set_groups_says_whether_they_changed(database: Database) -> None:
    accounts = Accounts(database)
    accounts.create("alice", PASSWORD)
    assert accounts.set_groups("alice", ["b", "a"]) == (accounts.get("alice").user, True)  # type: ignore[union-attr]
    assert accounts.set_groups("alice", ["A", "B"])[1] is False
    assert accounts.sync_groups("alice", ["ok", "not ok", "x" * 80]).groups == ("ok",)
    assert accounts.groups_in_use() == ("ok",)


def test_the_audit_trail_lists_filters_and_prunes(database: Database) -> None:
    trail = AuditTrail(database, retention_days=30)
    trail.record("sign_in.failed", username="mallory\x1b[31m", address="10.0.0.9")
    trail.record("admin.user_disabled", username="root", target="bob", address="10.0.0.1")
    trail.record("sign_in.succeeded", username="bob", address="10.0.0.2", details={"via": "sso"})
    assert [e.event for e in trail.list()] == [
        "sign_in.succeeded",
        "admin.user_disabled",
        "sign_in.failed",
    ]
    # A user's events: what they did, and what was done to them.
    assert [e.event for e in trail.list(username="bob")] == [
        "sign_in.succeeded",
        "admin.user_disabled",
    ]
    assert [e.event for e in trail.list(limit=1)] == ["sign_in.succeeded"]
    line = trail.list(event="sign_in.failed")[0].line()
    assert "\x1b" not in line and "'mallory\\x1b[31m'" in line and "10.0.0.9" in line
    with database.session() as session:
        session.execute(
            update(AuditEventRow)
            .where(AuditEventRow.event == "sign_in.failed")
            .values(at=utcnow() - timedelta(days=31))
        )
    assert trail.prune() == 1
    assert len(trail.list()) == 2
    assert AuditTrail(database, retention_days=None).prune() == 0
