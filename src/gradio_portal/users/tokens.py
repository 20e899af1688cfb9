"""Personal access tokens: how scripts, notebooks and MCP clients sign in without a browser.

A token is ``gpp_`` followed by 256 random bits. It is shown once, when made; the database
keeps its SHA-256, the first characters (to tell tokens apart in a list), a label, when it
expires and when it was last used. A token acts as its user: it stops working when revoked,
when it expires, and while its user is disabled.

    ``Authorization: Bearer gpp_...``  on any request to a mounted app, the REST API or MCP
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from gradio_portal._errors import UserError
from gradio_portal.storage.database import Database
from gradio_portal.storage.models import AccessTokenRow, AccountRow, utcnow
from gradio_portal.users.accounts import normalize_username
from gradio_portal.users.user import User

__all__ = ["PREFIX", "AccessToken", "AccessTokens", "TokenGrant", "looks_like_token"]

PREFIX = "gpp_"
"""How every token begins: a secret scanner (or a person) recognises one in a leaked file."""

_BODY_LENGTH = 43  # secrets.token_urlsafe(32)
_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_SHOWN = len(PREFIX) + 6
_USE_STEP = timedelta(seconds=60)
"""Last use is written at most once a minute per token: a read per request, not a write."""
MAX_LABEL = 100
MAX_EXPIRY_DAYS = 3650


def looks_like_token(value: str) -> bool:
    """Cheap shape check, so junk never reaches the database."""
    body = value[len(PREFIX) :]
    return value.startswith(PREFIX) and len(body) == _BODY_LENGTH and set(body) <= _ALPHABET


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


@dataclass(frozen=True, slots=True)
class AccessToken:
    """A token as its owner and administrators see it (never the secret itself)."""

    id: int
    username: str
    prefix: str
    label: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def shown(self) -> str:
        """What a list shows of the token: its first characters."""
        return f"{self.prefix}…"

    def state(self, now: datetime | None = None) -> str:
        """``active``, ``expired`` or ``revoked``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= (now or utcnow()):
            return "expired"
        return "active"


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """What a valid token gives: its user, as a session would see them."""

    token_id: int
    user: User
    label: str


class AccessTokens:
    """The portal's personal access tokens, stored in its database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def create(
        self, username: str, *, label: str = "", expires_days: int | None = None
    ) -> tuple[str, AccessToken]:
        """Make a token for ``username``; return the secret (shown once) and its record."""
        label = " ".join(label.split())
        if len(label) > MAX_LABEL:
            raise UserError(f"a token's label is at most {MAX_LABEL} characters")
        if expires_days is not None and not 1 <= expires_days <= MAX_EXPIRY_DAYS:
            raise UserError(f"a token expires in 1 to {MAX_EXPIRY_DAYS} days")
        username = normalize_username(username)
        secret = PREFIX + secrets.token_urlsafe(32)
        now = utcnow()
        with self.database.session() as session:
            account = session.scalar(select(AccountRow).where(AccountRow.username == username))
            if account is None:
                raise UserError(f"no user named {username!r}")
            if not account.is_active:
                raise UserError(f"{username!r} is disabled: enable the account first")
            row = AccessTokenRow(
                user_id=account.id,
                token_hash=_digest(secret),
                prefix=secret[:_SHOWN],
                label=label,
                created_at=now,
                expires_at=now + timedelta(days=expires_days) if expires_days else None,
            )
            session.add(row)
            session.flush()
            return secret, _token(row, account.username)

    def verify(self, secret: str) -> TokenGrant | None:
        """The grant of a live token, or None (unknown, revoked, expired, user disabled)."""
        if not looks_like_token(secret):
            return None
        now = utcnow()
        with self.database.session() as session:
            found = session.execute(
                select(AccessTokenRow, AccountRow)
                .join(AccountRow, AccountRow.id == AccessTokenRow.user_id)
                .where(AccessTokenRow.token_hash == _digest(secret))
            ).first()
            if found is None:
                return None
            row, account = found.tuple()
            if (
                row.revoked_at is not None
                or (row.expires_at is not None and row.expires_at <= now)
                or not account.is_active
            ):
                return None
            if row.last_used_at is None or now - row.last_used_at >= _USE_STEP:
                row.last_used_at = now
            user = User(
                id=account.id,
                username=account.username,
                display_name=account.display_name,
                roles=tuple(account.roles),
                groups=tuple(account.groups or ()),
            )
            return TokenGrant(token_id=row.id, user=user, label=row.label)

    def list(self, username: str | None = None) -> list[AccessToken]:
        """Tokens of ``username`` (or everyone's), newest first, revoked ones included."""
        query = select(AccessTokenRow, AccountRow.username).join(
            AccountRow, AccountRow.id == AccessTokenRow.user_id
        )
        if username is not None:
            query = query.where(AccountRow.username == normalize_username(username))
        with self.database.session() as session:
            rows = session.execute(query.order_by(AccessTokenRow.id.desc())).all()
            return [_token(row, name) for row, name in rows]

    def revoke(self, token_id: int, *, username: str | None = None) -> AccessToken:
        """Revoke a token (only one of ``username``'s, when given); revoking twice is fine."""
        with self.database.session() as session:
            found = session.execute(
                select(AccessTokenRow, AccountRow.username)
                .join(AccountRow, AccountRow.id == AccessTokenRow.user_id)
                .where(AccessTokenRow.id == token_id)
            ).first()
            owner_name = normalize_username(username) if username is not None else None
            if found is None or (owner_name is not None and found[1] != owner_name):
                raise UserError(f"no token {token_id}" + (f" of {username!r}" if username else ""))
            row, owner = found.tuple()
            if row.revoked_at is None:
                row.revoked_at = utcnow()
            return _token(row, owner)

    def revoke_all(self, user_id: int) -> int:
        """Revoke every live token of a user; return how many."""
        with self.database.session() as session:
            result = session.execute(
                update(AccessTokenRow)
                .where(AccessTokenRow.user_id == user_id, AccessTokenRow.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )
            return int(getattr(result, "rowcount", 0) or 0)


def _token(row: AccessTokenRow, username: str) -> AccessToken:
    return AccessToken(
        id=row.id,
        username=username,
        prefix=row.prefix,
        label=row.label,
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )
