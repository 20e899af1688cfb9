"""Accounts: create, authenticate, disable, change passwords."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gradio_portal._errors import AuthenticationError, UserError
from gradio_portal.storage.database import Database
from gradio_portal.storage.models import AccountRow, utcnow
from gradio_portal.users.passwords import PasswordHasher, check_password_policy
from gradio_portal.users.user import User

__all__ = [
    "Account",
    "Accounts",
    "clean_display_name",
    "normalize_group",
    "normalize_groups",
    "normalize_username",
]

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")
_GROUP = re.compile(r"^[a-z0-9][a-z0-9._:-]{0,63}$")
MAX_GROUPS = 100
INVALID_CREDENTIALS = "Invalid username or password."


def clean_display_name(name: str) -> str:
    """``name`` without control and format characters (at most 128 characters).

    Display names come from forms and from single-sign-on claims; a control character (an
    escape sequence for an administrator's terminal) or a bidirectional override (text that
    displays reversed) has no place in one.
    """
    kept = "".join(c for c in name if not unicodedata.category(c).startswith("C"))
    return " ".join(kept.split())[:128]


def normalize_username(name: str) -> str:
    """Case-fold and NFKC-normalise, so look-alike spellings are one account."""
    return unicodedata.normalize("NFKC", name).strip().casefold()


def normalize_group(name: str) -> str:
    """A group's name as stored: case-folded; raises :class:`UserError` for an invalid one."""
    group = unicodedata.normalize("NFKC", name).strip().casefold()
    if not _GROUP.match(group):
        raise UserError(
            f"invalid group {name!r}: use 1-64 letters, digits, '.', '_', ':' or '-', "
            "starting with a letter or digit"
        )
    return group


def normalize_groups(names: Iterable[str]) -> tuple[str, ...]:
    """Valid, case-folded, de-duplicated and sorted group names."""
    groups = tuple(sorted({normalize_group(n) for n in names if n.strip()}))
    if len(groups) > MAX_GROUPS:
        raise UserError(f"a user belongs to at most {MAX_GROUPS} groups")
    return groups


@dataclass(frozen=True, slots=True)
class Account:
    """A user account as administrators see it."""

    user: User
    is_active: bool
    has_password: bool


class Accounts:
    """The portal's user accounts, stored in its database."""

    def __init__(self, database: Database, hasher: PasswordHasher | None = None) -> None:
        self.database = database
        self.hasher = hasher or PasswordHasher()

    def create(
        self,
        username: str,
        password: str | None,
        *,
        display_name: str | None = None,
        roles: tuple[str, ...] = (),
        groups: Iterable[str] = (),
    ) -> User:
        """Add a user. ``password=None`` makes a single-sign-on-only account."""
        name = normalize_username(username)
        member_of = normalize_groups(groups)
        if not _USERNAME.match(name):
            raise UserError(
                f"invalid username {username!r}: use 1-64 letters, digits, '.', '_', '@' or '-', "
                "starting with a letter or digit"
            )
        if password is not None:
            _policy(password)
        with self.database.session() as session:
            if session.scalar(select(AccountRow.id).where(AccountRow.username == name)) is not None:
                raise UserError(f"a user named {name!r} already exists")
            row = AccountRow(
                username=name,
                display_name=clean_display_name(display_name or username) or name,
                password_hash=self.hasher.hash(password) if password is not None else None,
                is_active=True,
                roles=list(roles),
                groups=list(member_of),
                password_changed_at=utcnow() if password is not None else None,
            )
            session.add(row)
            session.flush()
            return _user(row)

    def authenticate(self, username: str, password: str) -> User:
        """Return the user for valid credentials; raise one identical error otherwise."""
        name = normalize_username(username)
        with self.database.session() as session:
            row = session.scalar(select(AccountRow).where(AccountRow.username == name))
            if row is None:
                self.hasher.verify_none(password)
                raise AuthenticationError(INVALID_CREDENTIALS)
            valid, rehashed = self.hasher.verify(password, row.password_hash)
            # A disabled account gets the same answer as a wrong password.
            if not valid or not row.is_active:
                raise AuthenticationError(INVALID_CREDENTIALS)
            if rehashed is not None:
                row.password_hash = rehashed
            return _user(row)

    def get(self, username: str) -> Account | None:
        with self.database.session() as session:
            row = session.scalar(
                select(AccountRow).where(AccountRow.username == normalize_username(username))
            )
            return _account(row) if row is not None else None

    def get_by_id(self, user_id: int) -> Account | None:
        with self.database.session() as session:
            row = session.get(AccountRow, user_id)
            return _account(row) if row is not None else None

    def list(self) -> list[Account]:
        with self.database.session() as session:
            return [
                _account(r) for r in session.scalars(select(AccountRow).order_by(AccountRow.id))
            ]

    def count(self) -> int:
        with self.database.session() as session:
            return int(session.scalar(select(func.count(AccountRow.id))) or 0)

    def set_password(self, username: str, password: str) -> User:
        """Replace a user's password. Callers end the user's other sessions."""
        _policy(password)
        with self.database.session() as session:
            row = self._require(session, username)
            row.password_hash = self.hasher.hash(password)
            row.password_changed_at = utcnow()
            return _user(row)

    def set_active(self, username: str, active: bool) -> User:
        """Enable or disable an account. Callers end a disabled user's sessions."""
        with self.database.session() as session:
            row = self._require(session, username)
            row.is_active = active
            return _user(row)

    def set_roles(self, username: str, roles: tuple[str, ...]) -> User:
        with self.database.session() as session:
            row = self._require(session, username)
            row.roles = list(roles)
            return _user(row)

    def set_groups(self, username: str, groups: Iterable[str]) -> tuple[User, bool]:
        """Set the user's groups; return the user and whether they changed.

        Sessions remember the user as they were at sign-in: callers end the user's sessions
        when the groups changed, so a removal takes effect at once.
        """
        member_of = normalize_groups(groups)
        with self.database.session() as session:
            row = self._require(session, username)
            changed = tuple(row.groups or ()) != member_of
            row.groups = list(member_of)
            return _user(row), changed

    def sync_groups(self, username: str, claimed: Iterable[str]) -> User:
        """Set the groups a single-sign-on provider claims, skipping names the portal cannot
        store (a provider's group may be a path or a display name)."""
        kept = []
        for name in claimed:
            try:
                kept.append(normalize_group(name))
            except UserError:
                continue
        return self.set_groups(username, kept[:MAX_GROUPS])[0]

    def groups_in_use(self) -> tuple[str, ...]:
        """Every group some user belongs to, sorted."""
        with self.database.session() as session:
            rows = session.scalars(select(AccountRow.groups))
            return tuple(sorted({group for groups in rows for group in groups or ()}))

    @staticmethod
    def _require(session: Session, username: str) -> AccountRow:
        row = session.scalar(
            select(AccountRow).where(AccountRow.username == normalize_username(username))
        )
        if row is None:
            raise UserError(f"no user named {username!r}; `gradio-portal users list` shows them")
        return row


def _policy(password: str) -> None:
    try:
        check_password_policy(password)
    except ValueError as exc:
        raise UserError(str(exc)) from exc


def _user(row: AccountRow) -> User:
    return User(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        roles=tuple(row.roles),
        groups=tuple(row.groups or ()),
    )


def _account(row: AccountRow) -> Account:
    return Account(user=_user(row), is_active=row.is_active, has_password=bool(row.password_hash))
