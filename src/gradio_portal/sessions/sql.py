"""Sessions in the SQL database (the default: nothing else to run)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from gradio_portal._errors import SessionStoreError
from gradio_portal.sessions.base import SessionRecord, hash_token, new_token
from gradio_portal.storage.database import Database
from gradio_portal.storage.models import SessionRow
from gradio_portal.users.user import User

__all__ = ["SQLSessionStore"]


class SQLSessionStore:
    """A :class:`~gradio_portal.sessions.SessionStore` over the portal's database."""

    def __init__(self, database: Database) -> None:
        self.database = database

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
        given = token is not None
        token = token or new_token()
        row = SessionRow(
            id=hash_token(token),
            user_id=user.id,
            username=user.username,
            display_name=user.display_name,
            roles=list(user.roles),
            groups=list(user.groups),
            data=dict(data),
            version=0,
            created_at=now,
            last_seen_at=now,
            user_agent=user_agent[:256],
            address=address[:64],
        )
        try:
            with self.database.session() as session:
                session.add(row)
        except IntegrityError:
            # Two requests of one access token started its session at once: keep the first.
            existing = self.get(row.id) if given else None
            if existing is None:
                raise SessionStoreError(_UNREACHABLE) from None
            return token, existing
        except SQLAlchemyError as exc:
            raise SessionStoreError(_UNREACHABLE) from exc
        return token, _record(row)

    def get(self, key: str) -> SessionRecord | None:
        with self._session() as session:
            row = session.get(SessionRow, key)
            return _record(row) if row is not None else None

    def update(
        self, key: str, changes: Mapping[str, Any], deletions: frozenset[str]
    ) -> dict[str, Any] | None:
        # Compare-and-swap on the row version: concurrent writers of different keys (two
        # Gradio callbacks of one user, say) must not overwrite each other, and SQLite has no
        # row locks. A lost race re-reads and retries.
        for _ in range(_MAX_ATTEMPTS):
            with self._session() as session:
                row = session.execute(
                    select(SessionRow.data, SessionRow.version).where(SessionRow.id == key)
                ).one_or_none()
                if row is None:
                    return None
                data = dict(row.data)
                for name in deletions:
                    data.pop(name, None)
                data.update(changes)
                swapped = session.execute(
                    update(SessionRow)
                    .where(SessionRow.id == key, SessionRow.version == row.version)
                    .values(data=data, version=row.version + 1)
                ).rowcount  # type: ignore[attr-defined]
                if swapped:
                    return data
        raise SessionStoreError(
            f"session data kept changing under {_MAX_ATTEMPTS} attempts to write it; retry"
        )

    def touch(self, key: str, now: float) -> None:
        with self._session() as session:
            session.execute(update(SessionRow).where(SessionRow.id == key).values(last_seen_at=now))

    def delete(self, key: str) -> None:
        with self._session() as session:
            session.execute(delete(SessionRow).where(SessionRow.id == key))

    def delete_for_user(self, user_id: int, *, keep: str | None = None) -> int:
        statement = delete(SessionRow).where(SessionRow.user_id == user_id)
        if keep is not None:
            statement = statement.where(SessionRow.id != keep)
        with self._session() as session:
            return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]

    def list_for_user(self, user_id: int) -> list[SessionRecord]:
        with self._session() as session:
            rows = session.scalars(
                select(SessionRow)
                .where(SessionRow.user_id == user_id)
                .order_by(SessionRow.last_seen_at.desc())
            ).all()
            return [_record(row) for row in rows]

    def ping(self) -> None:
        try:
            self.database.ping()
        except SQLAlchemyError as exc:
            raise SessionStoreError(f"the session database does not answer: {exc}") from exc

    @contextmanager
    def _session(self) -> Iterator[Session]:
        """A unit of work whose database failures surface as :class:`SessionStoreError`."""
        try:
            with self.database.session() as session:
                yield session
        except SQLAlchemyError as exc:
            raise SessionStoreError(_UNREACHABLE) from exc


_MAX_ATTEMPTS = 50
_UNREACHABLE = "the session database is unreachable; check GRADIO_PORTAL_DATABASE_URL"


def _record(row: SessionRow) -> SessionRecord:
    return SessionRecord(
        key=row.id,
        user=User(
            id=row.user_id,
            username=row.username,
            display_name=row.display_name,
            roles=tuple(row.roles),
            groups=tuple(row.groups or ()),
        ),
        data=dict(row.data),
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        user_agent=row.user_agent,
        address=row.address,
    )
