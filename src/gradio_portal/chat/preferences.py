"""What administrators choose for the chat: the default model and system prompt, and the models
offered. Chosen on ``/admin/chat`` and stored (one row of ``chat_preferences``); until then, and
for anything left unset, the settings of the same names apply (``openai_model``,
``chat_system_prompt``, ``chat_models``).

Every process reads the stored choices again at most every ``ttl`` seconds, so a change made
in one process reaches the others within that time, without a database read per message.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from gradio_portal.storage.database import Database
from gradio_portal.storage.models import ChatPreferencesRow, utcnow

__all__ = ["ChatPreferences", "Preferences"]

_ROW = 1  # the one row


@dataclass(frozen=True, slots=True)
class Preferences:
    """The chat's defaults now. ``offered_models`` empty: every model the backend lists."""

    default_model: str | None
    system_prompt: str | None
    offered_models: tuple[str, ...]
    updated_at: datetime | None = None
    updated_by: str = ""


class ChatPreferences:
    """The stored choices over ``fallback`` (what the settings say), cached for ``ttl`` seconds.

    Example::

        preferences = ChatPreferences(portal.database, Preferences("gpt-4o-mini", None, ()))
        preferences.save(default_model="gpt-4o", system_prompt=None, offered_models=[], by="ada")
        preferences.read().default_model      # "gpt-4o", in every process within ttl seconds
    """

    def __init__(self, database: Database, fallback: Preferences, *, ttl: float = 5.0) -> None:
        self.database = database
        self.fallback = fallback
        self.ttl = ttl
        self.current = fallback
        """The choices as last read (no database access): what a turn uses."""
        self._read_at: float | None = None

    @property
    def stale(self) -> bool:
        """True when :meth:`read` would go to the database."""
        return self._read_at is None or time.monotonic() - self._read_at >= self.ttl

    def read(self) -> Preferences:
        """The choices now, from the database when the cached ones are older than ``ttl``."""
        if not self.stale:
            return self.current
        with self.database.session() as session:
            row = session.scalar(select(ChatPreferencesRow).where(ChatPreferencesRow.id == _ROW))
            self.current = self._merged(row)
        self._read_at = time.monotonic()
        return self.current

    def save(
        self,
        *,
        default_model: str | None,
        system_prompt: str | None,
        offered_models: list[str] | None,
        by: str,
    ) -> Preferences:
        """Store the administrators' choices (None: the setting applies) and return them."""
        values: dict[str, Any] = {
            "default_model": default_model or None,
            "system_prompt": system_prompt or None,
            "offered_models": offered_models,
            "updated_at": utcnow(),
            "updated_by": by,
        }
        with self.database.session() as session:
            dialect = session.get_bind().dialect.name
            dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            session.execute(
                dialect_insert(ChatPreferencesRow)
                .values(id=_ROW, **values)
                .on_conflict_do_update(index_elements=["id"], set_=values)
            )
        self._read_at = None
        return self.read()

    def _merged(self, row: ChatPreferencesRow | None) -> Preferences:
        fallback = self.fallback
        if row is None:
            return fallback
        offered = fallback.offered_models if row.offered_models is None else row.offered_models
        return Preferences(
            default_model=row.default_model or fallback.default_model,
            system_prompt=row.system_prompt or fallback.system_prompt,
            offered_models=tuple(offered),
            updated_at=row.updated_at,
            updated_by=row.updated_by,
        )
