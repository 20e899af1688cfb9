"""Authentication: passwords, accounts, login/logout/setup pages, CSRF and throttling."""

from __future__ import annotations

from gradio_portal.auth.users import Account, UserService

__all__ = ["Account", "UserService"]
