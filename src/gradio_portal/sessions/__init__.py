"""Server-side sessions: the cookie carries a random token, the data lives in a store."""

from __future__ import annotations

from gradio_portal.sessions.base import SessionRecord, SessionStore
from gradio_portal.sessions.manager import ActiveSession, SessionManager
from gradio_portal.sessions.session import AnonymousSession, Session, SessionExpired
from gradio_portal.sessions.sql import SQLSessionStore
from gradio_portal.settings import PortalSettings
from gradio_portal.storage.database import Database

__all__ = [
    "ActiveSession",
    "AnonymousSession",
    "SQLSessionStore",
    "Session",
    "SessionExpired",
    "SessionManager",
    "SessionRecord",
    "SessionStore",
    "open_session_store",
]


def open_session_store(settings: PortalSettings, database: Database) -> SessionStore:
    """Redis when ``GRADIO_PORTAL_REDIS_URL`` is set, the SQL database otherwise."""
    if settings.redis_url:
        from gradio_portal.sessions.redis import RedisSessionStore

        return RedisSessionStore(settings.redis_url, ttl=settings.session_absolute_timeout)
    return SQLSessionStore(database)
