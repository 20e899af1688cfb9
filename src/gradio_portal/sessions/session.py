"""The session as code sees it: a mutable mapping whose writes persist at once."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import Any

from gradio_portal._errors import SessionExpired
from gradio_portal.sessions.base import SessionStore

__all__ = ["AnonymousSession", "Session"]


class Session(MutableMapping[str, Any]):
    """Server-side session data of a signed-in user.

    A write goes straight to the store, so it survives even when made inside a Gradio
    callback whose HTTP response was sent long ago. Concurrent writers do not lose each
    other's keys: each write is applied atomically to the stored data, then re-read.

    Example::

        def remember(topic: str, ctx: Context) -> None:
            ctx.session["topic"] = topic      # visible to the next event and request
    """

    __slots__ = ("_data", "_key", "_on_write", "_store", "ended")

    def __init__(
        self,
        store: SessionStore,
        key: str,
        data: Mapping[str, Any],
        *,
        on_write: Callable[[str], None] | None = None,
    ) -> None:
        self._store = store
        self._key = key
        self._data = dict(data)
        self._on_write = on_write
        self.ended = False

    def __getitem__(self, name: str) -> Any:
        return self._data[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __setitem__(self, name: str, value: Any) -> None:
        self.update({name: value})

    def __delitem__(self, name: str) -> None:
        if name not in self._data:
            raise KeyError(name)
        self._apply({}, frozenset((name,)))

    def update(self, values: Mapping[str, Any] | None = None, /, **more: Any) -> None:  # type: ignore[override]
        """Set several keys in one write."""
        changes = {**(values or {}), **more}
        for name, value in changes.items():
            _check_json(name, value)
        self._apply(changes, frozenset())

    def pop(self, name: str, *default: Any) -> Any:
        """Remove ``name`` and return its value (or ``default``)."""
        if name not in self._data:
            if default:
                return default[0]
            raise KeyError(name)
        value = self._data[name]
        self._apply({}, frozenset((name,)))
        return value

    def setdefault(self, name: str, default: Any = None) -> Any:
        if name not in self._data:
            self[name] = default
        return self._data[name]

    def clear(self) -> None:
        self._apply({}, frozenset(self._data))

    def refresh(self) -> None:
        """Re-read the stored data (to see writes made by other requests)."""
        record = self._store.get(self._key)
        if record is None:
            self.ended = True
            raise SessionExpired("the session has ended: sign in again")
        self._data = dict(record.data)

    def live(self) -> bool:
        """False once the session ended, here or anywhere (sign-out elsewhere, account disabled).

        Asks the store: call it from a worker thread, now and then in a long-running handler.
        """
        if self.ended:
            return False
        if self._store.get(self._key) is None:
            self.ended = True
        return not self.ended

    def invalidate(self) -> None:
        """End this session in the store: the cookie that carried it no longer signs in."""
        self._store.delete(self._key)
        self._data = {}
        self.ended = True

    def _apply(self, changes: Mapping[str, Any], deletions: frozenset[str]) -> None:
        data = self._store.update(self._key, changes, deletions)
        if data is None:
            self.ended = True
            raise SessionExpired("the session has ended: sign in again")
        self._data = data
        if self._on_write is not None:
            self._on_write(self._key)

    def __repr__(self) -> str:
        return f"Session({self._data!r})"


class AnonymousSession(Mapping[str, Any]):
    """The session of a request without a signed-in user: empty, and writes are refused."""

    __slots__ = ()

    def __getitem__(self, name: str) -> Any:
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __setitem__(self, name: str, value: Any) -> None:
        raise SessionExpired("no one is signed in: there is no session to write to")

    def __repr__(self) -> str:
        return "AnonymousSession()"


def _check_json(name: str, value: Any) -> None:
    if not isinstance(name, str):
        raise TypeError(f"session keys are strings, not {type(name).__name__}")
    try:
        json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"session[{name!r}] must be JSON-serialisable (str, int, float, bool, None, "
            f"list, dict): {exc}"
        ) from exc
