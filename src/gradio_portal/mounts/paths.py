"""The paths where Gradio apps are mounted, shared live by every middleware that guards them."""

from __future__ import annotations

from collections.abc import Iterator

from starlette.types import Scope

from gradio_portal.sessions import ActiveSession, active_session
from gradio_portal.users.user import User

__all__ = ["MountPaths"]


class MountPaths:
    """An ordered set of mount paths (``/app``, ``/chat``); apps may be mounted after start-up.

    Example::

        paths = MountPaths()
        paths.add("/app")
        paths.relative("/app/gradio_api/upload")   # "/gradio_api/upload"
        paths.relative("/login")                    # None
    """

    def __init__(self) -> None:
        self._paths: list[str] = []
        self._without_uploads: set[str] = set()
        self._groups: dict[str, frozenset[str]] = {}

    def add(self, path: str, *, uploads: bool = True, groups: frozenset[str] | None = None) -> None:
        """Add a mount; ``uploads=False`` for an app that has no file input; ``groups``: the
        groups whose members may open it (None: every signed-in user)."""
        self._paths.append(path)
        if not uploads:
            self._without_uploads.add(path)
        if groups is not None:
            self._groups[path] = groups

    def groups(self, mount: str) -> frozenset[str] | None:
        """The groups the app at ``mount`` is open to; None when it is open to every user."""
        return self._groups.get(mount)

    def open_to(self, mount: str, user: User) -> bool:
        """Whether ``user`` may open the app mounted at ``mount``."""
        return user.may_open(self._groups.get(mount))

    def mount_of(self, path: str) -> str | None:
        """The mount ``path`` falls under, or None."""
        for mount in self._paths:
            if path == mount or path.startswith(mount + "/"):
                return mount
        return None

    def takes_uploads(self, path: str) -> bool:
        """Whether the app mounted where ``path`` falls accepts file uploads."""
        return self.mount_of(path) not in self._without_uploads

    def relative(self, path: str) -> str | None:
        """``path`` relative to the mount it falls under (``""`` for the mount itself), or None."""
        mount = self.mount_of(path)
        return path[len(mount) :] if mount is not None else None

    def signed_in(self, scope: Scope) -> tuple[str, ActiveSession] | None:
        """For an HTTP request under a mount with a session: its path relative to the mount,
        and the session. None otherwise (the guard answers anonymous requests itself)."""
        if scope["type"] != "http":
            return None
        relative = self.relative(scope["path"])
        active = active_session(scope) if relative is not None else None
        return (relative, active) if relative is not None and active is not None else None

    def __contains__(self, path: object) -> bool:
        return path in self._paths

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    def __repr__(self) -> str:
        return f"MountPaths({self._paths!r})"
