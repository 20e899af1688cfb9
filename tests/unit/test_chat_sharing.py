"""ShareLinks on a real SQLite file: tokens stored as hashes, snapshots, replacement, revocation,
owner scoping, and the link gone with its conversation (ON DELETE CASCADE)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from gradio_portal.chat.repository import ConversationRepository
from gradio_portal.chat.sharing import ShareLinks, looks_like_share_token
from gradio_portal.storage import Database, upgrade
from gradio_portal.storage.models import AccountRow, ConversationShare

TURN = {"title": "Trip", "context_chars": 10_000, "recent_limit": 100}
ALICE, BOB = 1, 2


@pytest.fixture
def database(tmp_path: Path) -> Database:
    url = f"sqlite:///{tmp_path / 'chat.db'}"
    upgrade(url)
    database = Database(url)
    with database.session() as session:
        session.add_all(
            [
                AccountRow(username="alice", display_name="Alice Liddell", password_hash=None),
                AccountRow(username="bob", display_name="Bob", password_hash=None),
            ]
        )
    return database


@pytest.fixture
def repo(database: Database) -> ConversationRepository:
    return ConversationRepository(database)


@pytest.fixture
def links(database: Database) -> ShareLinks:
    return ShareLinks(database)


def conversation(repo: ConversationRepository, user_id: int, text: str = "Hello") -> int:
    """A conversation with one answered turn; its id."""
    turn = repo.begin_turn(user_id, None, text, **TURN)
    repo.save_reply(user_id, turn.reply_id, f"You said: {text}", complete=True)
    return turn.conversation.id


def share_rows(database: Database) -> list[tuple[int, int, str]]:
    with database.session() as session:
        return [
            (row.conversation_id, row.user_id, row.token_hash)
            for row in session.scalars(select(ConversationShare).order_by(ConversationShare.id))
        ]


def test_a_link_shows_the_conversation_as_it_was_when_shared(
    repo: ConversationRepository, links: ShareLinks, database: Database
) -> None:
    cid = conversation(repo, ALICE, "Plan a weekend")
    token = links.share(ALICE, cid)
    assert token is not None and re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    # Only the SHA-256 is stored.
    assert share_rows(database) == [(cid, ALICE, hashlib.sha256(token.encode()).hexdigest())]

    # Later messages and renames are not in the snapshot.
    later = repo.begin_turn(ALICE, cid, "A private follow-up", **TURN)
    repo.save_reply(ALICE, later.reply_id, "private answer", complete=True)
    repo.rename(ALICE, cid, "Renamed later")

    shared = links.read(token)
    assert shared is not None
    assert shared.title == "Trip"
    assert shared.shared_by == "Alice Liddell"
    assert [(m.role, m.content, m.complete, m.error) for m in shared.messages] == [
        ("user", "Plan a weekend", True, None),
        ("assistant", "You said: Plan a weekend", True, None),
    ]
    assert all(m.created_at.tzinfo is not None for m in shared.messages)
    assert links.shared(ALICE, cid) == shared.shared_at


def test_an_incomplete_reply_is_shared_as_incomplete(
    repo: ConversationRepository, links: ShareLinks
) -> None:
    turn = repo.begin_turn(ALICE, None, "Tell me a story", **TURN)
    repo.save_reply(ALICE, turn.reply_id, "Once upon", complete=False, error="Stopped.")
    token = links.share(ALICE, turn.conversation.id)
    assert token is not None
    shared = links.read(token)
    assert shared is not None
    assert [(m.content, m.complete, m.error) for m in shared.messages][-1] == (
        "Once upon",
        False,
        "Stopped.",
    )


def test_sharing_again_replaces_the_link_with_a_new_snapshot(
    repo: ConversationRepository, links: ShareLinks, database: Database
) -> None:
    cid = conversation(repo, ALICE)
    first = links.create(ALICE, cid)
    assert first is not None and not first.replaced
    assert first.path == "/shared/" + first.token
    repo.begin_turn(ALICE, cid, "More", **TURN)

    second = links.create(ALICE, cid)
    assert second is not None and second.replaced and second.token != first.token
    assert links.read(first.token) is None
    shared = links.read(second.token)
    assert shared is not None and [m.content for m in shared.messages][-2:] == ["More", ""]
    assert len(share_rows(database)) == 1


def test_revoking_ends_the_link(repo: ConversationRepository, links: ShareLinks) -> None:
    cid = conversation(repo, ALICE)
    token = links.share(ALICE, cid)
    assert token is not None
    assert links.revoke(ALICE, cid) is True
    assert links.read(token) is None
    assert links.shared(ALICE, cid) is None
    assert links.revoke(ALICE, cid) is False
    state = links.status(ALICE, cid)
    assert state is not None and state.shared_at is None


def test_only_the_owner_shares_revokes_or_sees_the_status(
    repo: ConversationRepository, links: ShareLinks, database: Database
) -> None:
    cid = conversation(repo, ALICE)
    assert links.share(BOB, cid) is None
    assert links.create(BOB, 999) is None
    assert share_rows(database) == []

    token = links.share(ALICE, cid)
    assert token is not None
    assert links.revoke(BOB, cid) is False
    assert links.shared(BOB, cid) is None
    assert links.status(BOB, cid) is None
    assert links.status(BOB, 999) is None
    assert links.read(token) is not None


def test_deleting_the_conversation_deletes_the_link(
    repo: ConversationRepository, links: ShareLinks, database: Database
) -> None:
    cid = conversation(repo, ALICE)
    token = links.share(ALICE, cid)
    assert token is not None
    assert repo.delete(ALICE, cid)
    assert share_rows(database) == []
    assert links.read(token) is None


def test_a_disabled_owners_links_do_not_open(
    repo: ConversationRepository, links: ShareLinks, database: Database
) -> None:
    token = links.share(ALICE, conversation(repo, ALICE))
    assert token is not None
    with database.session() as session:
        session.execute(update(AccountRow).where(AccountRow.id == ALICE).values(is_active=False))
    assert links.read(token) is None
    with database.session() as session:
        session.execute(update(AccountRow).where(AccountRow.id == ALICE).values(is_active=True))
    assert links.read(token) is not None


@pytest.mark.parametrize(
    "token",
    ["", "short", "x" * 42, "x" * 44, "a" * 42 + "!", "a" * 42 + "/", "ä" * 43, "a" * 10_000],
)
def test_malformed_tokens_find_nothing(links: ShareLinks, token: str) -> None:
    assert not looks_like_share_token(token)
    assert links.read(token) is None


def test_an_unknown_well_formed_token_finds_nothing(
    repo: ConversationRepository, links: ShareLinks, database: Database
) -> None:
    links.share(ALICE, conversation(repo, ALICE))
    assert links.read("A" * 43) is None
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(ConversationShare)) == 1
