"""ConversationRepository on a real SQLite file: ordering, budgets, and one user never seeing
or changing another's conversations, whatever id they pass."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from gradio_portal.chat.repository import MAX_TITLE_CHARS, ConversationRepository
from gradio_portal.chat.service import clean_message, title_from
from gradio_portal.storage import Database, upgrade
from gradio_portal.storage.models import AccountRow, Conversation, Message

TURN = {"title": "t", "context_chars": 10_000, "recent_limit": 100}


@pytest.fixture
def database(tmp_path: Path) -> Database:
    url = f"sqlite:///{tmp_path / 'chat.db'}"
    upgrade(url)
    database = Database(url)
    with database.session() as session:
        session.add_all(
            [
                AccountRow(username=name, display_name=name, password_hash=None)
                for name in ("a", "b")
            ]
        )
    return database


@pytest.fixture
def repo(database: Database) -> ConversationRepository:
    return ConversationRepository(database)


ALICE, BOB = 1, 2


def rows(database: Database) -> tuple[list[Any], list[Any]]:
    with database.session() as session:
        conversations = [
            (c.id, c.user_id, c.title, c.updated_at)
            for c in session.scalars(select(Conversation).order_by(Conversation.id))
        ]
        messages = [
            (m.id, m.conversation_id, m.role, m.content, m.complete, m.error)
            for m in session.scalars(select(Message).order_by(Message.id))
        ]
    return conversations, messages


def test_a_turn_stores_the_message_and_an_empty_incomplete_reply(
    repo: ConversationRepository,
) -> None:
    turn = repo.begin_turn(ALICE, None, "Hello", **TURN)
    assert turn.created and turn.conversation.title == "t"
    assert turn.context == () and turn.recent == ()
    found = repo.messages(ALICE, turn.conversation.id)
    assert found is not None
    _, messages, earlier = found
    assert [(m.role, m.content, m.complete) for m in messages] == [
        ("user", "Hello", True),
        ("assistant", "", False),
    ]
    assert earlier == 0 and messages[1].id == turn.reply_id


def test_the_next_turn_sees_the_earlier_messages(repo: ConversationRepository) -> None:
    first = repo.begin_turn(ALICE, None, "One", **TURN)
    repo.save_reply(ALICE, first.reply_id, "Reply one", complete=True)
    second = repo.begin_turn(ALICE, first.conversation.id, "Two", **TURN)
    assert not second.created and second.conversation.id == first.conversation.id
    assert [m.content for m in second.context] == ["One", "Reply one"]
    assert [m.content for m in second.recent] == ["One", "Reply one"]


def test_the_context_keeps_the_latest_messages_within_the_budget(
    repo: ConversationRepository,
) -> None:
    turn = repo.begin_turn(ALICE, None, "a" * 50, **TURN)
    repo.save_reply(ALICE, turn.reply_id, "b" * 30, complete=True)
    cid = turn.conversation.id
    repo.begin_turn(ALICE, cid, "c" * 20, **TURN)  # its reply stays empty: not context
    turn = repo.begin_turn(ALICE, cid, "d", **{**TURN, "context_chars": 60})
    assert [m.content for m in turn.context] == ["b" * 30, "c" * 20]


def test_recent_is_limited_and_counts_the_rest(repo: ConversationRepository) -> None:
    cid = repo.begin_turn(ALICE, None, "m0", **TURN).conversation.id
    for i in range(1, 5):
        repo.begin_turn(ALICE, cid, f"m{i}", **TURN)
    found = repo.messages(ALICE, cid, last=3)
    assert found is not None
    _, messages, earlier = found
    assert [m.content for m in messages] == ["", "m4", ""]
    assert earlier == 7


def test_conversations_are_listed_most_recently_active_first_and_paginated(
    repo: ConversationRepository,
) -> None:
    ids = [repo.create(ALICE, f"c{i}").id for i in range(5)]
    repo.create(BOB, "bob's")
    repo.begin_turn(ALICE, ids[1], "bump", **TURN)
    page = repo.conversations(ALICE, limit=2, offset=0)
    assert [c.title for c in page.items] == ["c1", "c4"] and page.total == 5
    assert [c.title for c in repo.conversations(ALICE, limit=2, offset=2).items] == ["c3", "c2"]
    assert [c.title for c in repo.conversations(ALICE, limit=2, offset=4).items] == ["c0"]


def test_titles_are_cut_to_the_column_width(repo: ConversationRepository) -> None:
    info = repo.create(ALICE, "x" * 500)
    assert len(info.title) == MAX_TITLE_CHARS
    renamed = repo.rename(ALICE, info.id, "y" * 500)
    assert renamed is not None and len(renamed.title) == MAX_TITLE_CHARS


def test_another_users_id_reads_nothing_and_writes_nothing(
    repo: ConversationRepository, database: Database
) -> None:
    turn = repo.begin_turn(ALICE, None, "Alice's secret", **TURN)
    repo.save_reply(ALICE, turn.reply_id, "Alice's answer", complete=True)
    cid = turn.conversation.id
    before = rows(database)

    assert repo.get(BOB, cid) is None
    assert repo.messages(BOB, cid) is None
    assert repo.conversations(BOB).items == ()
    assert repo.rename(BOB, cid, "pwned") is None
    assert repo.delete(BOB, cid) is False
    assert repo.save_reply(BOB, turn.reply_id, "pwned", complete=True) is False
    assert rows(database) == before

    # A turn aimed at Alice's conversation lands in a new one of Bob's.
    bobs = repo.begin_turn(BOB, cid, "Bob's message", **TURN)
    assert bobs.created and bobs.conversation.id != cid and bobs.context == ()
    conversations, messages = rows(database)
    assert conversations[0] == before[0][0]
    assert messages[:2] == before[1]
    assert {m[1] for m in messages[2:]} == {bobs.conversation.id}


def test_a_user_message_cannot_be_overwritten_as_a_reply(repo: ConversationRepository) -> None:
    turn = repo.begin_turn(ALICE, None, "mine", **TURN)
    assert repo.save_reply(ALICE, turn.user_message.id, "changed", complete=True) is False


def test_delete_takes_the_messages_with_it(
    repo: ConversationRepository, database: Database
) -> None:
    kept = repo.begin_turn(ALICE, None, "keep", **TURN).conversation.id
    doomed = repo.begin_turn(ALICE, None, "drop", **TURN).conversation.id
    assert repo.delete(ALICE, doomed)
    conversations, messages = rows(database)
    assert [c[0] for c in conversations] == [kept]
    assert {m[1] for m in messages} == {kept}
    assert repo.delete(ALICE, doomed) is False


def test_a_stale_conversation_id_starts_a_new_conversation(repo: ConversationRepository) -> None:
    cid = repo.begin_turn(ALICE, None, "first", **TURN).conversation.id
    repo.delete(ALICE, cid)
    turn = repo.begin_turn(ALICE, cid, "again", **TURN)
    assert turn.created and turn.conversation.id != cid


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("hello", "hello"),
        ("  padded  ", "  padded  "),
        ("a\x00b", "ab"),
        ("tab\tand\x1bescape", "tab\tand\x1bescape"),
        ("lone \ud800 surrogate", "lone \ufffd surrogate"),
        ("", None),
        (" \n\t", None),
        ("\x00", None),
    ],
)
def test_clean_message(raw: str, expected: str | None) -> None:
    assert clean_message(raw, max_chars=100) == expected


def test_clean_message_refuses_more_than_the_limit_and_names_it() -> None:
    assert clean_message("x" * 10, max_chars=10) == "x" * 10
    with pytest.raises(Exception, match=r"11 characters long; the limit is 10 characters"):
        clean_message("x" * 11, max_chars=10)


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("Plan a trip", "Plan a trip"),
        ("  line one\nline two\t", "line one line two"),
        ("x" * 80, "x" * 59 + "…"),
        ("👨‍👩‍👧 family", "👨‍👩‍👧 family"),
        ("\x00\x01", "New chat"),
    ],
)
def test_title_from(text: str, title: str) -> None:
    assert title_from(text) == title
