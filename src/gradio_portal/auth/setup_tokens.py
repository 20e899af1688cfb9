"""One-time setup links that create the first administrator."""

from __future__ import annotations

import hashlib
import secrets
import time

from sqlalchemy import delete, select

from gradio_portal.storage.database import Database
from gradio_portal.storage.models import SetupToken
from gradio_portal.users import Accounts

__all__ = ["SetupTokens"]

SETUP_TOKEN_LIFETIME = 24 * 3600


class SetupTokens:
    """Setup links: valid while no account exists, for a day, until the first one is used."""

    def __init__(self, database: Database, accounts: Accounts) -> None:
        self.database = database
        self.accounts = accounts

    def allowed(self, token: str) -> bool:
        """True while no account exists and ``token`` is a live setup token."""
        return self.accounts.count() == 0 and self.valid(token)

    def link(self, base_url: str) -> str | None:
        """A one-time link that creates the first administrator, or None when accounts exist."""
        if self.accounts.count() > 0:
            return None
        return f"{base_url.rstrip('/')}/setup?token={self.issue()}"

    def issue(self) -> str:
        """A new token; only its hash is stored."""
        token = secrets.token_urlsafe(32)
        with self.database.session() as session:
            session.add(
                SetupToken(token_hash=_digest(token), expires_at=time.time() + SETUP_TOKEN_LIFETIME)
            )
        return token

    def valid(self, token: str) -> bool:
        if not token or len(token) > 128:
            return False
        with self.database.session() as session:
            expires = session.scalar(
                select(SetupToken.expires_at).where(SetupToken.token_hash == _digest(token))
            )
        return expires is not None and expires > time.time()

    def clear(self) -> None:
        """Invalidate every outstanding token (after the administrator exists)."""
        with self.database.session() as session:
            session.execute(delete(SetupToken))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
