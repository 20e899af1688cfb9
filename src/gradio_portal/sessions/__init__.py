"""Server-side sessions: the cookie carries a random token, the data lives in a store.

- :mod:`.base` the store protocol; :mod:`.sql` and :mod:`.redis` the stores side by side;
- :mod:`.manager` timeouts, rotation and the in-process cache on top of any store;
- :mod:`.session` the session as callbacks see it (writes persist at once);
- :mod:`.cookies` the one object that writes and reads the portal's cookies;
- :mod:`.middleware` resolves the cookie (or a script's access token) once per request;
- :mod:`.bearer` the session a personal access token leads to;
- :mod:`.signin` starts and ends a session over HTTP (session and cookie together).
"""

from __future__ import annotations

from gradio_portal._errors import SessionExpired
from gradio_portal.sessions.base import SessionRecord, SessionStore
from gradio_portal.sessions.bearer import BearerSessions, refused_access_token
from gradio_portal.sessions.cookies import Cookies
from gradio_portal.sessions.manager import ActiveSession, SessionManager
from gradio_portal.sessions.middleware import SessionMiddleware, active_session
from gradio_portal.sessions.session import AnonymousSession, Session
from gradio_portal.sessions.signin import SignIn
from gradio_portal.sessions.sql import SQLSessionStore
from gradio_portal.settings import PortalSettings
from gradio_portal.storage.database import Database

__all__ = [
    "ActiveSession",
    "AnonymousSession",
    "BearerSessions",
    "Cookies",
    "SQLSessionStore",
    "Session",
    "SessionExpired",
    "SessionManager",
    "SessionMiddleware",
    "SessionRecord",
    "SessionStore",
    "SignIn",
    "active_session",
    "open_session_store",
    "refused_access_token",
]


def open_session_store(settings: PortalSettings, database: Database) -> SessionStore:
    """Redis when ``GRADIO_PORTAL_REDIS_URL`` is set, the SQL database otherwise."""
    if settings.redis_url:
        from gradio_portal.sessions.redis import RedisSessionStore

        return RedisSessionStore(settings.redis_url, ttl=settings.session_absolute_timeout)
    return SQLSessionStore(database)
