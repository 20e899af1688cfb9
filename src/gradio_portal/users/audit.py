"""The audit trail: who did what, from where, kept in the database and written to the log.

Every security event goes through :class:`SecurityEvents`: one line on the
``gradio_portal.security`` logger (:func:`~gradio_portal.observability.security_event`) and one
row in ``audit_events``, which ``gradio-portal audit`` prints and the admin page shows. A row
holds the time, the event, who acted (for a failed sign-in: the name tried), whom an
administrator's action concerned, the client's address and a few facts; never a password, a
token or a session key. Rows older than the retention setting are pruned.

An audit write that fails (the database went away) is logged and dropped: it never turns a
sign-in or a sign-out into an error.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import anyio
from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import HTTPConnection

from gradio_portal.observability.security import client_address, security_event
from gradio_portal.storage.database import Database
from gradio_portal.storage.models import AuditEventRow, utcnow

__all__ = ["AuditEvent", "AuditTrail", "SecurityEvents"]

log = logging.getLogger("gradio_portal.audit")
_TEXT = 64
MAX_LIST = 10_000


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One recorded security event."""

    at: datetime
    event: str
    username: str | None
    target: str | None
    address: str
    details: Mapping[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        """One line for a terminal: time, event, user, address, and the rest."""
        facts = " ".join(f"{key}={value!r}" for key, value in sorted(self.details.items()))
        parts = [
            self.at.strftime("%Y-%m-%d %H:%M:%S"),
            self.event,
            repr(self.username) if self.username is not None else "-",
            self.address or "-",
        ]
        if self.target is not None:
            parts.append(f"target={self.target!r}")
        if facts:
            parts.append(facts)
        return " ".join(parts)


class AuditTrail:
    """Security events in the portal's database (``retention_days``: how long rows stay)."""

    def __init__(self, database: Database, *, retention_days: int | None = 365) -> None:
        self.database = database
        self.retention_days = retention_days

    def record(
        self,
        event: str,
        *,
        username: str | None = None,
        target: str | None = None,
        address: str = "",
        details: Mapping[str, Any] | None = None,
    ) -> None:
        """Store one event (raises the database's error; see :meth:`record_quietly`)."""
        row = AuditEventRow(
            at=utcnow(),
            event=event[:_TEXT],
            username=username[:_TEXT] if username is not None else None,
            target=target[:_TEXT] if target is not None else None,
            address=address[:_TEXT],
            details=dict(details or {}),
        )
        with self.database.session() as session:
            session.add(row)

    def record_quietly(self, event: str, **values: Any) -> None:
        """:meth:`record`, logging a failure instead of raising it."""
        try:
            self.record(event, **values)
        except SQLAlchemyError as exc:
            log.warning("audit event %s not recorded: %s", event, exc.__class__.__name__)

    def list(
        self,
        *,
        limit: int = 100,
        username: str | None = None,
        event: str | None = None,
    ) -> list[AuditEvent]:
        """The newest events first; ``username`` matches who acted or whom it concerned."""
        query = select(AuditEventRow).order_by(AuditEventRow.id.desc())
        if username:
            query = query.where(
                (AuditEventRow.username == username) | (AuditEventRow.target == username)
            )
        if event:
            query = query.where(AuditEventRow.event == event)
        with self.database.session() as session:
            rows = session.scalars(query.limit(max(1, min(limit, MAX_LIST))))
            return [
                AuditEvent(
                    at=row.at,
                    event=row.event,
                    username=row.username,
                    target=row.target,
                    address=row.address,
                    details=row.details or {},
                )
                for row in rows
            ]

    def prune(self, now: datetime | None = None) -> int:
        """Delete the events older than the retention; return how many."""
        if self.retention_days is None:
            return 0
        cutoff = (now or utcnow()) - timedelta(days=self.retention_days)
        with self.database.session() as session:
            result = session.execute(delete(AuditEventRow).where(AuditEventRow.at < cutoff))
            return int(getattr(result, "rowcount", 0) or 0)


class SecurityEvents:
    """Where the portal's routes report security events: the log, and the audit trail."""

    def __init__(self, trail: AuditTrail | None) -> None:
        self.trail = trail

    async def emit(
        self,
        event: str,
        connection: HTTPConnection,
        *,
        user: str | None = None,
        target: str | None = None,
        level: int = logging.INFO,
        **details: str | bool | int,
    ) -> None:
        """Log ``event`` for ``connection``'s client and record it (in a worker thread)."""
        facts: dict[str, str | bool | int] = dict(details)
        if target is not None:
            facts["target"] = target
        security_event(event, connection, user=user, level=level, **facts)
        if self.trail is None:
            return
        await anyio.to_thread.run_sync(
            functools.partial(
                self.trail.record_quietly,
                event,
                username=user,
                target=target,
                address=client_address(connection),
                details=details,
            )
        )
