"""CSRF protection: tokens bound to the session (or to a pre-login nonce), plus an Origin check.

Tokens are HMACs, not stored values: ``HMAC(secret, purpose + binding)``. Signed-in forms bind
to the session key, the login form to a random nonce kept in an HttpOnly cookie (OWASP's
"signed double-submit cookie"), so an anonymous visitor costs no database row.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping

from starlette.requests import Request

__all__ = ["CSRF_COOKIE", "CsrfProtection", "same_origin"]

CSRF_COOKIE = "gradio_portal_csrf"


class CsrfProtection:
    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()

    def token_for(self, binding: str) -> str:
        """The token that a form bound to ``binding`` must post back."""
        return hmac.new(self._secret, b"csrf:" + binding.encode(), hashlib.sha256).hexdigest()

    def valid(self, binding: str | None, token: str | None) -> bool:
        # compare_digest raises on non-ASCII str (a 500 a fuzzer found): such a token is
        # never one of ours anyway.
        if not binding or not token or len(token) > 128 or not token.isascii():
            return False
        return hmac.compare_digest(self.token_for(binding), token)

    @staticmethod
    def new_nonce() -> str:
        return secrets.token_urlsafe(24)

    @staticmethod
    def same_origin(request: Request) -> bool:
        """False when the browser says the form came from another site (see :func:`same_origin`)."""
        return same_origin(request.headers)


def same_origin(headers: Mapping[str, str]) -> bool:
    """False when ``Origin`` names another origin than ``Host``, or is ``null``; True when absent.

    Browsers send Origin on every cross-site POST; a request without it (an old client, a
    script) is judged by its token or session alone.
    """
    origin = headers.get("origin")
    if origin is None:
        return True
    if origin == "null" or "://" not in origin:
        return False
    return origin.split("://", 1)[1] == headers.get("host", "")
