"""Conversation search on a real SQLite file and a real PostgreSQL, one set of tests for both:
words as prefixes, every word in one message or the title, newest first, paginated, kept in
step with deletes, renames and streamed replies, safe for any input; and over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import text
from tests.conftest import PASSWORD

from gradio_portal import Portal
from gradio_portal.chat import mount_chat
from gradio_portal.chat.repository import ConversationRepository
from gradio_portal.chat.search import MAX_WORD_CHARS, MAX_WORDS, ConversationSearch, search_words
from gradio_portal.storage import Database, downgrade, upgrade
from gradio_portal.storage.models import AccountRow
from gradio_portal.testing import LiveServer, login
from gradio_portal.testing.cluster import fresh_postgres_database

ALICE, BOB = 1, 2
TURN: dict[str, Any] = {"context_chars": 10_000, "recent_limit": 100}
API = "/api/conversations"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a fresh PostgreSQL database (skipped loudly when
    PostgreSQL is down, unless GRADIO_PORTAL_REQUIRE_SERVICES=1)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'chat.db'}"
    else:
        with fresh_postgres_database(request.getfixturevalue("postgres_url")) as url:
            yield url


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    url = database_url
    upgrade(url)
    database = Database(url)
    with database.session() as session:
        session.add_all(
            AccountRow(username=name, display_name=name, password_hash=None) for name in "ab"
        )
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def repo(database: Database) -> ConversationRepository:
    return ConversationRepository(database)


@pytest.fixture
def search(database: Database) -> ConversationSearch:
    return ConversationSearch(database)


def chat(repo: ConversationRepository, user: int, title: str, *texts: str) -> int:
    """A conversation of ``texts``: user messages and replies, alternating."""
    conversation_id: int | None = None
    for asked, answer in zip(texts[::2], [*texts[1::2], ""], strict=False):
        turn = repo.begin_turn(user, conversation_id, asked, title=title, **TURN)
        conversation_id = turn.conversation.id
        repo.save_reply(user, turn.reply_id, answer, complete=True)
    assert conversation_id is not None
    return conversation_id


def found(search: ConversationSearch, text: str, user: int = ALICE) -> list[str]:
    return [info.title for info in search.search(user, text, limit=100).items]


def test_words_match_as_prefixes_ignoring_case_in_one_message_or_the_title(
    repo: ConversationRepository, search: ConversationSearch
) -> None:
    chat(repo, ALICE, "Trip to Lisbon", "What should I pack?", "Sunscreen and good SHOES.")
    chat(repo, ALICE, "Budget", "How much for a hotel in Porto?", "About 90 euros a night.")
    chat(repo, ALICE, "Café", "Is example.com on version 3.11?", "Yes, e-mail them.")

    assert found(search, "lisb") == ["Trip to Lisbon"]  # the title
    assert found(search, "LISBON trip") == ["Trip to Lisbon"]
    assert found(search, "shoe sun") == ["Trip to Lisbon"]  # one message, any order
    assert found(search, "hot por") == ["Budget"]
    # Every word in one message (or the title): these two are in different messages.
    assert found(search, "pack sunscreen") == []
    assert found(search, "euros") == ["Budget"]
    assert found(search, "ros") == []  # the start of a word only
    # Punctuation splits words, the same on both databases.
    assert found(search, "example.com") == ["Café"]
    assert found(search, "com 3.11") == ["Café"]
    assert found(search, "mail") == ["Café"]
    # Accents count, on both databases.
    assert found(search, "café") == ["Café"]
    assert found(search, "cafe") == []


def test_newest_first_paginated_with_the_total(
    repo: ConversationRepository, search: ConversationSearch
) -> None:
    ids = [chat(repo, ALICE, f"Note {i}", f"shared word {i}") for i in range(5)]
    chat(repo, ALICE, "Other", "nothing alike")
    # Activity moves an old conversation to the top.
    chat_id = repo.begin_turn(ALICE, ids[1], "shared again", title="", **TURN).conversation.id
    assert chat_id == ids[1]

    first = search.search(ALICE, "shared", limit=2)
    assert [i.id for i in first.items] == [ids[1], ids[4]] and first.total == 5
    rest = search.search(ALICE, "shared", limit=2, offset=2)
    assert [i.id for i in rest.items] == [ids[3], ids[2]] and rest.total == 5
    last = search.search(ALICE, "shared", limit=10, offset=4)
    assert [i.id for i in last.items] == [ids[0]] and last.total == 5
    past = search.search(ALICE, "shared", limit=10, offset=50)
    assert past.items == () and past.total == 5
    assert search.search(ALICE, "absent", limit=10, offset=50).total == 0
    # The same order and fields as the plain list.
    listed = repo.conversations(ALICE, limit=100)
    assert [i for i in listed.items if i.id in {c.id for c in first.items}] == list(first.items)


def test_deleted_renamed_and_streamed_conversations_are_found_as_they_are_now(
    repo: ConversationRepository, search: ConversationSearch, database: Database
) -> None:
    gone = chat(repo, ALICE, "Zanzibar plans", "spices of zanzibar")
    kept = chat(repo, ALICE, "Porto", "port wine")
    assert found(search, "zanzibar") == ["Zanzibar plans"]
    assert repo.delete(ALICE, gone)
    assert found(search, "zanzibar") == []

    repo.rename(ALICE, kept, "Douro valley")
    assert found(search, "douro") == ["Douro valley"]
    assert found(search, "porto") == []
    assert found(search, "wine") == ["Douro valley"]

    # A reply is searchable once it ends: not while it streams (its progress writes are not
    # indexed), then with its final text, also when it was stopped.
    turn = repo.begin_turn(ALICE, kept, "tell me more", title="", **TURN)
    repo.save_progress([(ALICE, turn.reply_id, "The quinta harvest")])
    assert found(search, "quinta") == []
    repo.save_progress([(ALICE, turn.reply_id, "The vineyard harvest")])
    repo.save_reply(ALICE, turn.reply_id, "The vineyard harvest is in September", complete=True)
    assert found(search, "vineyard septem") == ["Douro valley"]
    assert found(search, "quinta") == []
    stopped = repo.begin_turn(ALICE, kept, "and the cellars?", title="", **TURN)
    repo.save_progress([(ALICE, stopped.reply_id, "The cellars of Gaia")])
    repo.save_reply(ALICE, stopped.reply_id, "The cellars of Gaia", complete=False, error="Stop")
    assert found(search, "gaia cellars") == ["Douro valley"]
    # An edit and a regenerate replace what is found.
    again = repo.answer_again(
        ALICE, kept, edited=(stopped.user_message.id, "and the bridges?"), **TURN
    )
    assert again is not None
    assert found(search, "gaia") == [] and found(search, "bridges") == ["Douro valley"]

    # Deleting the account removes its conversations and messages by cascade: the index too.
    with database.session() as session:
        session.execute(text("DELETE FROM users WHERE id = :id"), {"id": ALICE})
    assert found(search, "vineyard") == []
    assert found(search, "douro") == []
    if database.is_sqlite:
        _check_fts5_integrity(database)


def _check_fts5_integrity(database: Database) -> None:
    with database.session() as session:
        for table in ("messages_fts", "conversations_fts"):
            # Raises when the index differs from the rows it indexes.
            session.execute(
                text(f"INSERT INTO {table}({table}, rank) VALUES ('integrity-check', 1)")
            )


def test_one_user_never_finds_anothers_conversations(
    repo: ConversationRepository, search: ConversationSearch
) -> None:
    chat(repo, ALICE, "Alice's secret", "my passport number is 12345")
    chat(repo, BOB, "Bob's", "passport renewal")
    assert found(search, "passport", ALICE) == ["Alice's secret"]
    assert found(search, "passport", BOB) == ["Bob's"]
    for word in ("alice", "secret", "number", "12345", "my"):
        assert found(search, word, BOB) == []
    assert search.search(BOB, "secret", limit=10, offset=5).total == 0


HOSTILE = [
    "",
    "   ",
    "!!!",
    '"',
    '""*',
    "*",
    "lisbon*",
    "^lisbon",
    "NEAR(lisbon trip)",
    "lisbon OR trip",
    "lisbon NOT trip",
    "title:lisbon",
    "{title}: x",
    "(lisbon",
    "lisbon -trip",
    "'; DROP TABLE messages; --",
    "a & b | !c <-> d:*",
    "\\'",
    "\x00",
    "lis\x00bon",
    "\ud800",
    "\udfff lisbon \ud800",
    "\u0301",
    "x" * 10_000,
    " ".join(["lisbon"] * 5_000),
    "🙂 emoji",
    "Ünïcödé ÉCOLE",
    "%_%",
]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_any_input_is_safe(
    repo: ConversationRepository, search: ConversationSearch, hostile: str
) -> None:
    chat(repo, ALICE, "Trip to Lisbon", "lisbon trip")
    page = search.search(ALICE, hostile, limit=20)
    assert page.total == len(page.items)
    assert all(info.title == "Trip to Lisbon" for info in page.items)


def test_words_are_bounded() -> None:
    assert search_words("") == () and search_words("?! -- ...") == ()
    assert search_words('"Lisbon" trip, 2024!') == ("Lisbon", "trip", "2024")
    assert search_words("a " * 100) == ("a",) * MAX_WORDS
    assert search_words("y" * 10_000) == ("y" * MAX_WORD_CHARS,)
    assert search_words("e\u0301cole") == ("école",)  # NFC, as text is usually stored
    assert search_words("\u0301 \x00\ud800") == ()


@hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.text(max_size=300) | st.text(alphabet="\"*^():-+!&|<>\\' {}NEARO", max_size=60))
def test_any_text_answers_a_page_property(search: ConversationSearch, hostile: str) -> None:
    page = search.search(ALICE, hostile, limit=5)
    assert page.total >= len(page.items)


# -- over HTTP ------------------------------------------------------------------------------


@pytest.fixture
def server(portal: Portal, serve: Callable[[Any], LiveServer]) -> LiveServer:
    mount_chat(portal)
    return serve(portal.app)


@pytest.fixture
def signed_in(
    server: LiveServer, client_for: Callable[[LiveServer], httpx.Client]
) -> Callable[[str], httpx.Client]:
    def sign_in(username: str) -> httpx.Client:
        client = client_for(server)
        assert login(client, username, PASSWORD).status_code == 303
        return client

    return sign_in


def seed(portal: Portal, username: str, title: str, *texts: str) -> int:
    account = portal.accounts.get(username)
    assert account is not None
    user_id = account.user.id
    return chat(ConversationRepository(portal.database), user_id, title, *texts)


def test_q_searches_over_http_in_the_list_shape(
    portal: Portal, signed_in: Callable[[str], httpx.Client]
) -> None:
    alice = signed_in("alice")
    lisbon = seed(portal, "alice", "Trip to Lisbon", "pack shoes", "and sunscreen")
    seed(portal, "alice", "Budget", "hotel prices")

    response = alice.get(API, params={"q": "lisb"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert [c["id"] for c in body["items"]] == [lisbon]
    assert (body["total"], body["limit"], body["offset"]) == (1, 20, 0)
    assert set(body["items"][0]) == set(alice.get(API).json()["items"][0])

    assert alice.get(API, params={"q": "SUNSCREEN"}).json()["total"] == 1
    assert alice.get(API, params={"q": "shoes sunscreen"}).json()["total"] == 0
    assert alice.get(API, params={"q": "!!!"}).json()["total"] == 0
    # An empty q is no search: the plain list.
    assert alice.get(API, params={"q": ""}).json()["total"] == 2
    assert alice.get(API, params={"q": "x" * 201}).status_code == 422
    for hostile in ('"*', "NEAR(a b)", "\x00", "\\ud800", "a:* & b", "' OR 1=1 --"):
        assert alice.get(API, params={"q": hostile}).status_code == 200


def test_q_is_documented_in_openapi(signed_in: Callable[[str], httpx.Client]) -> None:
    operation = signed_in("alice").get("/openapi.json").json()["paths"][API]["get"]
    [q] = [p for p in operation["parameters"] if p["name"] == "q"]
    assert q["in"] == "query" and not q.get("required")
    assert "lisbon budget" in json.dumps(q)  # the example
    assert "start of a word" in q["description"]


def test_migration_round_trip_keeps_search_working(database_url: str) -> None:
    url = database_url
    upgrade(url)
    database = Database(url)
    try:
        with database.session() as session:
            session.add(AccountRow(username="a", display_name="a", password_hash=None))
        chat(ConversationRepository(database), ALICE, "Before", "existing text")
    finally:
        database.dispose()
    # Down past 0008 and up again: the upgrade indexes the rows that are already there.
    downgrade(url, "0007")
    upgrade(url)
    database = Database(url)
    try:
        assert found(ConversationSearch(database), "existing") == ["Before"]
        assert found(ConversationSearch(database), "befo") == ["Before"]
        if database.is_sqlite:
            _check_fts5_integrity(database)
        else:
            _check_postgres_uses_the_indexes(database)
    finally:
        database.dispose()
    downgrade(url, "base")


def _check_postgres_uses_the_indexes(database: Database) -> None:
    """The query's expression is the indexed one: with sequential scans off, the plan reads
    the GIN index (an expression that drifted from the migration's would not)."""
    search = ConversationSearch(database)
    query = search._statement(ALICE, ("existing",), limit=20, offset=0)
    compiled = query.compile(database.engine, compile_kwargs={"literal_binds": True})
    with database.session() as session:
        session.execute(text("SET LOCAL enable_seqscan = off"))
        # Compiled for psycopg, "%" is written "%%"; text() writes it so again.
        explain = "EXPLAIN " + str(compiled).replace("%%", "%")
        plan = "\n".join(session.execute(text(explain)).scalars())
    assert "ix_messages_content_search" in plan, plan
