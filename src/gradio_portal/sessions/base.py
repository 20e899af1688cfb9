"""What a session store is: the protocol every backend (SQL, Redis) implements."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from gradio_portal.users.user import User

__all__ = [
    "SessionRecord",
    "SessionStore",
    "hash_token",
    "new_token",
    "token_looks_valid",
]

TOKEN_BYTES = 32
# token_urlsafe(32) is 43 characters of [A-Za-z0-9_-].
_TOKEN_LENGTH = 43
_TOKEN_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def new_token() -> str:
    """A fresh random session token (256 bits) for the cookie."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_looks_valid(token: str) -> bool:
    """Cheap shape check, so garbage cookies never reach the store."""
    return len(token) == _TOKEN_LENGTH and all(c in _TOKEN_ALPHABET for c in token)


def hash_token(token: str) -> str:
    """The key under which a session is stored: a leaked table yields no usable cookie."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A stored session as a store returns it."""

    key: str
    user: User
    data: Mapping[str, Any]
    created_at: float
    last_seen_at: float
    user_agent: str = ""
    address: str = ""


class SessionStore(Protocol):
    """Server-side session storage. Keys are :func:`hash_token` of the cookie token.

    Stores are synchronous: the web layer calls them from a worker thread, and Gradio runs
    synchronous callbacks in worker threads already.
    """

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
        """Store a new session and return its cookie token and record.

        ``token``: the session's token when the caller has one (an access token's session,
        whose token derives from it); a new random one otherwise. Creating a session that
        exists under the given token returns the stored one.
        """
        ...

    def get(self, key: str) -> SessionRecord | None:
        """The session stored under ``key``, or None."""
        ...

    def update(
        self, key: str, changes: Mapping[str, Any], deletions: frozenset[str]
    ) -> dict[str, Any] | None:
        """Apply changes atomically to the session data; return the new data (None if gone)."""
        ...

    def touch(self, key: str, now: float) -> None:
        """Record activity (for the idle timeout)."""
        ...

    def delete(self, key: str) -> None:
        """Revoke one session."""
        ...

    def delete_for_user(self, user_id: int, *, keep: str | None = None) -> int:
        """Revoke every session of a user (except ``keep``); return how many."""
        ...

    def list_for_user(self, user_id: int) -> list[SessionRecord]:
        """The user's sessions, most recently seen first."""
        ...

    def ping(self) -> None:
        """Raise :class:`~gradio_portal.SessionStoreError` when the store is unreachable."""
        ...
