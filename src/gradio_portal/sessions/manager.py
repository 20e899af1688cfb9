"""Session lifecycle: create at login, validate on each request, expire, revoke."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from gradio_portal.identity import User
from gradio_portal.sessions.base import SessionRecord, SessionStore, hash_token, token_looks_valid
from gradio_portal.sessions.session import Session

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
    ) -> None:
        self.store = store
        self.idle_timeout = idle_timeout
        self.absolute_timeout = absolute_timeout
        self._clock = clock
        # Writing last-seen on every request would turn every read into a write; a coarse
        # step keeps the idle timeout accurate to within a few percent.
        self._touch_step = min(60.0, idle_timeout / 20)

    def login(self, user: User, *, user_agent: str = "", address: str = "") -> ActiveSession:
        """Start a session for ``user``. Callers revoke the previous one (rotation)."""
        token, record = self.store.create(
            user,
            data={"username": user.username},
            now=self._clock(),
            user_agent=user_agent,
            address=address,
        )
        return ActiveSession(token, record, Session(self.store, record.key, record.data))

    def load(self, token: str | None) -> ActiveSession | None:
        """The live session for a cookie token, or None (absent, malformed, ended, expired)."""
        if not token or not token_looks_valid(token):
            return None
        key = hash_token(token)
        record = self.store.get(key)
        if record is None:
            return None
        now = self._clock()
        if (
            now - record.last_seen_at > self.idle_timeout
            or now - record.created_at > self.absolute_timeout
        ):
            self.store.delete(key)
            return None
        if now - record.last_seen_at > self._touch_step:
            self.store.touch(key, now)
        return ActiveSession(token, record, Session(self.store, key, record.data))

    def logout(self, token: str) -> None:
        """End the session of ``token`` (no error if it already ended)."""
        if token_looks_valid(token):
            self.store.delete(hash_token(token))

    def end_all(self, user_id: int, *, keep: str | None = None) -> int:
        """End every session of a user (password change, disable, 'log out everywhere')."""
        return self.store.delete_for_user(user_id, keep=hash_token(keep) if keep else None)
