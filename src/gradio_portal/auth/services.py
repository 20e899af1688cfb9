"""The services the portal's own routes use, handed to each router by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from gradio_portal.auth.csrf import CsrfProtection
from gradio_portal.auth.landing import Landing
from gradio_portal.auth.setup_tokens import SetupTokens
from gradio_portal.auth.throttle import LoginThrottle
from gradio_portal.pages import Pages
from gradio_portal.sessions import BearerSessions, Cookies, SessionManager, SignIn
from gradio_portal.settings import PortalSettings
from gradio_portal.users import Accounts
from gradio_portal.users.audit import SecurityEvents
from gradio_portal.users.tokens import AccessTokens

__all__ = ["AuthServices"]


@dataclass(frozen=True, slots=True)
class AuthServices:
    """What the sign-in, account, admin and single-sign-on routes need; built by ``Portal``.

    Routers receive this, never the ``Portal``: they depend on services, not on the
    application that assembles them.
    """

    settings: PortalSettings
    pages: Pages
    csrf: CsrfProtection
    throttle: LoginThrottle
    accounts: Accounts
    sessions: SessionManager
    sign_in: SignIn
    cookies: Cookies
    setup_tokens: SetupTokens
    landing: Landing
    tokens: AccessTokens
    bearer: BearerSessions
    events: SecurityEvents

    @property
    def login_path(self) -> str:
        return self.settings.login_path
