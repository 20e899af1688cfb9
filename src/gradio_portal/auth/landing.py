"""Where a user lands after signing in: the page they asked for, when safe, or the home page."""

from __future__ import annotations

from collections.abc import Iterable

from gradio_portal.navigation.urls import safe_redirect_target

__all__ = ["Landing"]


class Landing:
    """The home page (the first mounted app unless set) and the safe target after sign-in.

    Args:
        mount_paths: the live paths of the mounted apps.
        login_path: the sign-in page, never a landing target itself.
    """

    def __init__(
        self, mount_paths: Iterable[str], *, login_path: str, fallback: str = "/account/sessions"
    ) -> None:
        self._mount_paths = mount_paths
        self._login_path = login_path
        self._fallback = fallback
        self._home: str | None = None
        self.apps_page: str | None = None
        """The page listing the apps, when the portal serves one (its own application's ``/``)."""

    @property
    def home(self) -> str:
        """Unless set: the one mounted app's page; with several, the page listing them (when
        there is one); the account page when nothing is mounted (not ``/``, which sends a
        signed-in user to sign in, which sends them home: a loop)."""
        if self._home is not None:
            return self._home
        mounts = list(self._mount_paths)
        if len(mounts) > 1 and self.apps_page is not None:
            return self.apps_page
        return mounts[0] + "/" if mounts else self._fallback

    @home.setter
    def home(self, value: str) -> None:
        self._home = value

    def after_sign_in(self, value: str | None) -> str:
        """``value`` when it is a safe target on this site, else :attr:`home`."""
        target = safe_redirect_target(value, default=self.home)
        # Never bounce back into the sign-in pages themselves.
        path = target.split("?")[0]
        if path in (self._login_path, "/logout") or path.startswith("/login/"):
            return self.home
        return target
