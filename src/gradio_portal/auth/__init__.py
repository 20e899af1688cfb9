"""Authentication routes: sign-in and sign-out, first-run setup, single sign-on, the account
and admin pages; and what they share (CSRF, throttling, where a user lands).

Each router is built from :class:`AuthServices`, never from the ``Portal``.
"""

from __future__ import annotations

from gradio_portal.auth.account import build_account_router
from gradio_portal.auth.admin import build_admin_router
from gradio_portal.auth.csrf import CsrfProtection
from gradio_portal.auth.landing import Landing
from gradio_portal.auth.login import build_login_router
from gradio_portal.auth.oidc import OidcLogin
from gradio_portal.auth.services import AuthServices
from gradio_portal.auth.setup import build_setup_router
from gradio_portal.auth.setup_tokens import SetupTokens
from gradio_portal.auth.throttle import LoginThrottle

__all__ = [
    "AuthServices",
    "CsrfProtection",
    "Landing",
    "LoginThrottle",
    "OidcLogin",
    "SetupTokens",
    "build_account_router",
    "build_admin_router",
    "build_login_router",
    "build_setup_router",
]
