"""Single-sign-on identities and the portal users they belong to.

An identity is the pair (issuer, subject) from a validated ID token, stored as a link to a
portal user. That link is the only way an SSO sign-in finds a user:

- never by e-mail or ``preferred_username``: providers let users edit those, and an address
  can be reassigned, so matching on them would hand an existing account (say, a password
  administrator ``alice``) to whoever claims ``alice`` at the provider;
- a first sign-in creates a new SSO-only user (no password) named after the claims, with a
  numeric suffix when the name is taken, when ``oidc_create_users`` is on; otherwise the
  identity must be linked beforehand (:meth:`SsoIdentities.link`);
- a disabled user stays disabled: the link resolves to nobody.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from gradio_portal._errors import UserError
from gradio_portal.storage.database import Database
from gradio_portal.storage.models import AccountRow, SsoIdentity, utcnow
from gradio_portal.users.accounts import Accounts, normalize_username
from gradio_portal.users.user import User

__all__ = ["SsoIdentities", "username_from_claims"]

_NOT_ALLOWED = re.compile(r"[^a-z0-9._@-]+")
_MAX_BASE = 56  # leaves room for "-NNN" within the 64-character limit


def username_from_claims(claims: Mapping[str, Any]) -> str:
    """A valid portal username suggested by the token's claims (uniqueness not checked)."""
    for claim in ("preferred_username", "email", "nickname", "name"):
        value = claims.get(claim)
        if isinstance(value, str) and value.strip():
            name = _NOT_ALLOWED.sub("-", normalize_username(value)).strip("-._@")
            if name:
                return name[:_MAX_BASE].rstrip("-._@") or "user"
    return "user"


class SsoIdentities:
    def __init__(self, database: Database, users: Accounts) -> None:
        self.database = database
        self.accounts = users

    def resolve(
        self, issuer: str, subject: str, claims: Mapping[str, Any], *, create: bool
    ) -> User | None:
        """The active user linked to (issuer, subject), creating one if allowed; else None."""
        email = claims.get("email") if isinstance(claims.get("email"), str) else None
        with self.database.session() as session:
            link = session.scalar(
                select(SsoIdentity).where(
                    SsoIdentity.issuer == issuer, SsoIdentity.subject == subject
                )
            )
            if link is not None:
                row = session.get(AccountRow, link.user_id)
                if row is None or not row.is_active:
                    return None
                link.last_login_at = utcnow()
                link.email = email[:255] if email else link.email
                return User(
                    id=row.id,
                    username=row.username,
                    display_name=row.display_name,
                    roles=tuple(row.roles),
                    groups=tuple(row.groups or ()),
                )
        if not create:
            return None
        user = self._create_user(claims)
        try:
            self.link(user.id, issuer, subject, email=email)
        except IntegrityError:
            # Two first sign-ins of one identity raced: keep the winner's user.
            with self.database.session() as session:
                session.execute(delete(AccountRow).where(AccountRow.id == user.id))
            return self.resolve(issuer, subject, claims, create=False)
        return user

    def link(self, user_id: int, issuer: str, subject: str, *, email: str | None = None) -> None:
        """Let (issuer, subject) sign in as the user ``user_id``."""
        with self.database.session() as session:
            session.add(
                SsoIdentity(
                    issuer=issuer[:255],
                    subject=subject[:255],
                    user_id=user_id,
                    email=email[:255] if email else None,
                    last_login_at=utcnow(),
                )
            )

    def _create_user(self, claims: Mapping[str, Any]) -> User:
        base = username_from_claims(claims)
        display = next(
            (
                v.strip()
                for v in (claims.get("name"), claims.get("preferred_username"))
                if isinstance(v, str) and v.strip()
            ),
            None,
        )
        candidates = [base, *(f"{base}-{n}" for n in range(2, 100))]
        candidates.append(f"{base}-{secrets.token_hex(3)}")
        for name in candidates:
            try:
                return self.accounts.create(name, None, display_name=display or name)
            except UserError:
                continue  # taken (or, for the random last one, astronomically unlucky)
        raise UserError(f"could not find a free username for {base!r}")
