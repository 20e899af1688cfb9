"""A session store that reports to the portal's metrics: each call's duration, and the
sessions it starts and ends.

Wraps whichever store is configured, so the Redis store's calls (a network round trip each)
and the SQL store's are timed alike. Started and ended are counters, not a gauge of live
sessions: neither store counts its sessions cheaply (Redis would need a scan of every key),
and every process shares the store, so each process counts what it did.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from gradio_portal.observability import PortalMetrics
from gradio_portal.sessions.base import SessionRecord, SessionStore
from gradio_portal.users.user import User

__all__ = ["ObservedSessionStore"]


class ObservedSessionStore:
    """A :class:`~gradio_portal.sessions.SessionStore` that times the calls of ``store``.

    ``name`` is the ``store`` label of the metrics (``redis``, ``sql``).
    """

    def __init__(self, store: SessionStore, metrics: PortalMetrics, *, name: str) -> None:
        self.store = store
        self._record: Callable[[str, float], None] = metrics.session_store_call(name)
        self._started = metrics.sessions_started
        self._ended = metrics.sessions_ended

    @contextmanager
    def _timed(self, operation: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self._record(operation, time.perf_counter() - started)

    def create(
        self,
        user: User,
        *,
        data: Mapping[str, Any],
        now: float,
        user_agent: str,
        address: str,
        token: str | None = None,
    ) -> tuple[str, SessionRecord]:
        with self._timed("create"):
            created = self.store.create(
                user, data=data, now=now, user_agent=user_agent, address=address, token=token
            )
        self._started.inc()
        return created

    def get(self, key: str) -> SessionRecord | None:
        with self._timed("get"):
            return self.store.get(key)

    def update(
        self, key: str, changes: Mapping[str, Any], deletions: frozenset[str]
    ) -> dict[str, Any] | None:
        with self._timed("update"):
            return self.store.update(key, changes, deletions)

    def touch(self, key: str, now: float) -> None:
        with self._timed("touch"):
            self.store.touch(key, now)

    def delete(self, key: str) -> None:
        with self._timed("delete"):
            self.store.delete(key)
        self._ended.inc()

    def delete_for_user(self, user_id: int, *, keep: str | None = None) -> int:
        with self._timed("delete_for_user"):
            ended = self.store.delete_for_user(user_id, keep=keep)
        self._ended.inc(ended)
        return ended

    def list_for_user(self, user_id: int) -> list[SessionRecord]:
        with self._timed("list_for_user"):
            return self.store.list_for_user(user_id)

    def ping(self) -> None:
        with self._timed("ping"):
            self.store.ping()
