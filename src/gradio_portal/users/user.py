"""Who is signed in: the user as every part of the portal sees it."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["User"]


@dataclass(frozen=True, slots=True)
class User:
    """A signed-in user, as snapshotted in the session at login.

    Example::

        def greet(ctx: Context) -> str:
            return f"Hello, {ctx.user.display_name}!"
    """

    id: int
    username: str
    display_name: str
    roles: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    """The groups the user belongs to (``analysts``); they decide which apps the user opens."""

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def may_open(self, groups: frozenset[str] | None) -> bool:
        """Whether an app open to ``groups`` (None: any signed-in user) admits this user.

        Administrators open every app."""
        return groups is None or self.is_admin or not groups.isdisjoint(self.groups)
