"""The session store contract, on the SQL store (SQLite file) and the Redis store."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from gradio_portal import SessionExpired, User
from gradio_portal.sessions import SessionManager, SessionStore, SQLSessionStore
from gradio_portal.sessions.base import hash_token
from gradio_portal.sessions.redis import RedisSessionStore
from gradio_portal.storage import Database, upgrade
from gradio_portal.storage.models import AccountRow

ALICE = User(id=1, username="alice", display_name="Alice", roles=("admin",))
BOB = User(id=2, username="bob", display_name="Bob")


@pytest.fixture(params=["sql", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SessionStore]:
    if request.param == "sql":
        url = f"sqlite:///{tmp_path / 'sessions.db'}"
        upgrade(url)
        database = Database(url)
        with database.session() as session:
            for user in (ALICE, BOB):
                session.add(
                    AccountRow(
                        id=user.id,
                        username=user.username,
                        display_name=user.display_name,
                        password_hash=None,
                        is_active=True,
                        roles=list(user.roles),
                    )
                )
        yield SQLSessionStore(database)
        database.dispose()
    else:
        redis_url = request.getfixturevalue("redis_url")
        store = RedisSessionStore(redis_url, ttl=60, prefix=f"gp-test-{uuid.uuid4().hex}")
        yield store
        keys = list(store.client.scan_iter(f"{store.prefix}:*"))
        if keys:
            store.client.delete(*keys)


def test_create_get_and_the_token_is_not_the_key(store: SessionStore) -> None:
    token, record = store.create(
        ALICE, data={"username": "alice"}, now=100.0, user_agent="UA", address="127.0.0.1"
    )
    assert record.key == hash_token(token) != token
    again = store.get(record.key)
    assert again is not None
    assert again.user == ALICE
    assert dict(again.data) == {"username": "alice"}
    assert (again.created_at, again.user_agent, again.address) == (100.0, "UA", "127.0.0.1")
    assert store.get(hash_token(token + "x")) is None


def test_updates_apply_atomically_and_keep_other_keys(store: SessionStore) -> None:
    _, record = store.create(ALICE, data={"a": 1}, now=1.0, user_agent="", address="")
    assert store.update(record.key, {"b": [1, 2]}, frozenset()) == {"a": 1, "b": [1, 2]}
    assert store.update(record.key, {}, frozenset({"a"})) == {"b": [1, 2]}


def test_concurrent_writers_of_different_keys_lose_nothing(store: SessionStore) -> None:
    _, record = store.create(ALICE, data={}, now=1.0, user_agent="", address="")

    def write(n: int) -> None:
        for i in range(10):
            store.update(record.key, {f"w{n}-{i}": i}, frozenset())

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = store.get(record.key)
    assert stored is not None and len(stored.data) == 40


def test_deleted_sessions_are_not_resurrected_by_a_late_write(store: SessionStore) -> None:
    _, record = store.create(ALICE, data={}, now=1.0, user_agent="", address="")
    store.delete(record.key)
    assert store.update(record.key, {"x": 1}, frozenset()) is None
    assert store.get(record.key) is None


def test_end_all_of_a_user_keeps_other_users_and_the_kept_one(store: SessionStore) -> None:
    _, a1 = store.create(ALICE, data={}, now=1.0, user_agent="", address="")
    _, a2 = store.create(ALICE, data={}, now=2.0, user_agent="", address="")
    _, a3 = store.create(ALICE, data={}, now=3.0, user_agent="", address="")
    _, b1 = store.create(BOB, data={}, now=1.0, user_agent="", address="")
    assert [r.key for r in store.list_for_user(ALICE.id)] == [a3.key, a2.key, a1.key]
    assert store.delete_for_user(ALICE.id, keep=a2.key) == 2
    assert [r.key for r in store.list_for_user(ALICE.id)] == [a2.key]
    assert store.get(b1.key) is not None


def test_manager_timeouts_and_session_mapping(store: SessionStore) -> None:
    now = [1000.0]
    manager = SessionManager(store, idle_timeout=10, absolute_timeout=30, clock=lambda: now[0])
    active = manager.login(ALICE)
    assert active.session["username"] == "alice"
    active.session["theme"] = "dark"
    loaded = manager.load(active.token)
    assert loaded is not None and loaded.session["theme"] == "dark"
    for _ in range(3):  # active every 8 s: idle never hits, the absolute limit does
        now[0] += 8
        assert manager.load(active.token) is not None
    now[0] += 8
    assert manager.load(active.token) is None
    with pytest.raises(SessionExpired):
        active.session["late"] = 1


@pytest.mark.parametrize("token", ["", "short", "x" * 43, "é" * 43, "A" * 42 + "\x00", None])
def test_manager_ignores_malformed_tokens(store: SessionStore, token: str | None) -> None:
    manager = SessionManager(store, idle_timeout=10, absolute_timeout=30)
    assert manager.load(token) is None


def test_session_values_must_be_json(store: SessionStore) -> None:
    active = SessionManager(store, idle_timeout=10, absolute_timeout=30).login(BOB)
    with pytest.raises(TypeError, match="JSON-serialisable"):
        active.session["when"] = time


def test_cache_saves_store_reads_and_never_outlives_a_sign_out(store: SessionStore) -> None:
    now = [1000.0]
    manager = SessionManager(
        store, idle_timeout=600, absolute_timeout=3600, clock=lambda: now[0], cache_ttl=1.0
    )
    first = manager.login(ALICE)
    loaded = manager.load(first.token)
    assert loaded is not None
    # Deleted behind the cache's back (another process): seen once the TTL has passed.
    store.delete(loaded.key)
    assert manager.load(first.token) is loaded
    now[0] += 1.5
    assert manager.load(first.token) is None

    second = manager.login(ALICE)
    assert manager.load(second.token) is not None
    manager.logout(second.token)  # this process: at once
    assert manager.load(second.token) is None

    third = manager.login(ALICE)
    active = manager.load(third.token)
    assert active is not None
    active.session.invalidate()  # a logout button in a callback
    assert manager.cached(third.token) is None
    assert manager.load(third.token) is None

    fourth = manager.login(ALICE)
    assert manager.load(fourth.token) is not None
    manager.end_all(ALICE.id)
    assert manager.load(fourth.token) is None


def test_a_write_is_seen_by_the_next_request_even_through_a_stale_cached_copy(
    store: SessionStore,
) -> None:
    # One event is two requests (join, data); when the cache entry expires between them, each
    # loads its own copy. The handler writes through the first; the second, cached, must not
    # hand the next event a snapshot from before the write.
    now = [1000.0]
    manager = SessionManager(
        store, idle_timeout=600, absolute_timeout=3600, clock=lambda: now[0], cache_ttl=1.0
    )
    token = manager.login(BOB).token
    first = manager.load(token)
    now[0] += 2  # the cache entry expires
    second = manager.load(token)
    assert first is not None and second is not None and first is not second
    first.session["visits"] = 1
    again = manager.cached(token) or manager.load(token)
    assert again is not None
    assert again.session.get("visits") == 1
