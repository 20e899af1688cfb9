"""Session lifecycle: create at login, validate on each request, expire, revoke."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace

from gradio_portal.sessions.base import SessionRecord, SessionStore, hash_token, token_looks_valid
from gradio_portal.sessions.session import Session
from gradio_portal.users.user import User

__all__ = ["ActiveSession", "SessionManager"]


@dataclass(frozen=True, slots=True)
class ActiveSession:
    """A validated session for the current request."""

    token: str
    record: SessionRecord
    session: Session

    @property
    def user(self) -> User:
        return self.record.user

    @property
    def key(self) -> str:
        return self.record.key


class SessionManager:
    """Applies the timeouts and rotation rules on top of any :class:`SessionStore`.

    - idle timeout: a session unused for ``idle_timeout`` seconds ends;
    - absolute timeout: no session outlives ``absolute_timeout`` seconds, however active;
    - a new token at every login (no fixation); logout deletes the stored session, so a
      replayed cookie is refused everywhere.
    """

    def __init__(
        self,
        store: SessionStore,
        *,
        idle_timeout: float,
        absolute_timeout: float,
        clock: Callable[[], float] = time.time,
        cache_ttl: float = 0.0,
        cache_size: int = 10_000,
        max_per_user: int | None = None,
    ) -> None:
        self.store = store
        self.max_per_user = max_per_user
        self.idle_timeout = idle_timeout
        self.absolute_timeout = absolute_timeout
        self._clock = clock
        # Writing last-seen on every request would turn every read into a write; a coarse
        # step keeps the idle timeout accurate to within a few percent.
        self._touch_step = min(60.0, idle_timeout / 20)
        # A Gradio event is two requests (queue/join, queue/data) and a page load a dozen: a
        # short in-process cache saves a store round trip (and a thread hop) for each. Within
        # this process a sign-out takes effect at once; other processes see it within the TTL.
        self.cache_ttl = min(cache_ttl, self._touch_step)
        self._cache_size = cache_size
        self._cache: OrderedDict[str, tuple[float, ActiveSession]] = OrderedDict()
        self._cache_lock = threading.Lock()

    def login(
        self,
        user: User,
        *,
        user_agent: str = "",
        address: str = "",
        token: str | None = None,
    ) -> ActiveSession:
        """Start a session for ``user``. Callers revoke the previous one (rotation).

        ``token`` names the session when the caller derives it (an access token's session).

        Beyond ``max_per_user`` live sessions, the oldest ones end: a user (or a stolen
        password) cannot pile up sessions without bound.
        """
        token, record = self.store.create(
            user,
            data={"username": user.username},
            now=self._clock(),
            user_agent=user_agent,
            address=address,
            token=token,
        )
        if self.max_per_user is not None:
            others = sorted(
                (r for r in self.store.list_for_user(user.id) if r.key != record.key),
                key=lambda r: r.created_at,
            )
            for old in others[: max(0, len(others) - (self.max_per_user - 1))]:
                self.store.delete(old.key)
                self._forget_cached(old.key)
        session = Session(self.store, record.key, record.data, on_write=self._forget_cached)
        return ActiveSession(token, record, session)

    def _forget_cached(self, key: str) -> None:
        with self._cache_lock:
            for token in [t for t, (_, a) in self._cache.items() if a.key == key]:
                del self._cache[token]

    def cached(self, token: str | None) -> ActiveSession | None:
        """The session of ``token`` if this process validated it within the cache TTL.

        Memory only: safe to call on the event loop.
        """
        if self.cache_ttl <= 0 or not token:
            return None
        entry = self._cache.get(token)
        if entry is None:
            return None
        loaded_at, active = entry
        now = self._clock()
        if (
            now - loaded_at > self.cache_ttl
            or active.session.ended
            or self._expired(active.record, now)
        ):
            with self._cache_lock:
                self._cache.pop(token, None)
            return None
        return active

    def load(self, token: str | None) -> ActiveSession | None:
        """The live session for a cookie token, or None (absent, malformed, ended, expired)."""
        if not token or not token_looks_valid(token):
            return None
        hit = self.cached(token)
        if hit is not None:
            return hit
        key = hash_token(token)
        record = self.store.get(key)
        if record is None:
            return None
        now = self._clock()
        if self._expired(record, now):
            self.store.delete(key)
            return None
        if now - record.last_seen_at > self._touch_step:
            self.store.touch(key, now)
            record = replace(record, last_seen_at=now)
        # A write through this session drops every cached copy of it: the next request of the
        # same cookie reads the store, not a snapshot taken before the write (two requests of
        # one event, join and data, can each load the session when the cache entry expires
        # between them).
        active = ActiveSession(
            token, record, Session(self.store, key, record.data, on_write=self._forget_cached)
        )
        if self.cache_ttl > 0:
            with self._cache_lock:
                self._cache[token] = (now, active)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return active

    def _expired(self, record: SessionRecord, now: float) -> bool:
        return (
            now - record.last_seen_at > self.idle_timeout
            or now - record.created_at > self.absolute_timeout
        )

    def logout(self, token: str) -> None:
        """End the session of ``token`` (no error if it already ended)."""
        with self._cache_lock:
            self._cache.pop(token, None)
        if token_looks_valid(token):
            self.store.delete(hash_token(token))

    def end_all(self, user_id: int, *, keep: str | None = None) -> int:
        """End every session of a user (password change, disable, 'log out everywhere')."""
        with self._cache_lock:
            for token in [t for t, (_, a) in self._cache.items() if a.user.id == user_id]:
                if token != keep:
                    del self._cache[token]
        return self.store.delete_for_user(user_id, keep=hash_token(keep) if keep else None)
