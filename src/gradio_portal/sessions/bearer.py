"""``Authorization: Bearer <access token>``: a script's requests get a session like a browser's.

A valid personal access token leads to a portal session of its own, whose token is derived
from the access token (an HMAC under the portal's secret; never stored, never sent). Every
request with the same access token therefore lands in the same session: a Gradio event's
join and its stream, ``gr.State`` between calls, ``Context.session`` writes. All the rest of
the portal (the guard, the Gradio session binding, callbacks' ``Context``) sees an ordinary
signed-in request. The access token is checked on every request (within the session cache's
few seconds), so a revoked or expired token, or a disabled user, stops at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections import OrderedDict

from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from gradio_portal._errors import GET_A_TOKEN
from gradio_portal.sessions.manager import ActiveSession, SessionManager
from gradio_portal.users.tokens import AccessTokens, TokenGrant, looks_like_token

__all__ = ["BearerSessions", "bearer_token", "refused_access_token"]

TOKEN_REFUSED = (
    "This access token is not valid: it was revoked, has expired, was mistyped, or its user "
    "is disabled. " + GET_A_TOKEN
)


async def refused_access_token(scope: Scope, receive: Receive, send: Send) -> None:
    """The answer to a request whose portal access token is not (or no longer) valid."""
    response = JSONResponse(
        {"detail": TOKEN_REFUSED},
        status_code=401,
        headers={"www-authenticate": 'Bearer error="invalid_token"', "cache-control": "no-store"},
    )
    await response(scope, receive, send)


_SCHEME = "bearer "


def bearer_token(authorization: str | None) -> str | None:
    """The portal access token in an ``Authorization`` header, if it carries one.

    Other bearer tokens (an application's own scheme) are not the portal's to judge.
    """
    if not authorization or authorization[: len(_SCHEME)].lower() != _SCHEME:
        return None
    value = authorization[len(_SCHEME) :].strip()
    return value if value.startswith("gpp_") else None


class BearerSessions:
    """Resolves access tokens to sessions (synchronous: call it from a worker thread)."""

    def __init__(
        self,
        tokens: AccessTokens,
        manager: SessionManager,
        secret: str,
        *,
        cache_size: int = 1_000,
    ) -> None:
        self.tokens = tokens
        self.manager = manager
        self._key = hashlib.sha256(
            b"gradio-portal access-token session\0" + secret.encode()
        ).digest()
        self._grants: OrderedDict[str, tuple[float, TokenGrant]] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def session_token(self, access_token: str) -> str:
        """The token of the session an access token leads to (shaped like a cookie token)."""
        digest = hmac.new(self._key, access_token.encode("ascii"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def load(self, access_token: str, *, address: str = "") -> ActiveSession | None:
        """The session of a live access token, started on its first use; None for a token
        that is unknown, revoked, expired or whose user is disabled."""
        if not looks_like_token(access_token):
            return None
        token = self.session_token(access_token)
        grant = self._grant(access_token, token)
        if grant is None:
            return None
        active = self.manager.load(token)
        # The session remembers the user as they were; a change (groups, name) starts anew.
        if active is not None and active.user == grant.user:
            return active
        return self.manager.login(
            grant.user,
            token=token,
            user_agent=f"access token {grant.label}".strip()[:256],
            address=address,
        )

    def cached(self, access_token: str) -> ActiveSession | None:
        """The session of an access token this process checked within the cache TTL.

        Memory only: safe to call on the event loop (the cookie path's twin).
        """
        if not looks_like_token(access_token):
            return None
        key = self.session_token(access_token)
        hit = self._grants.get(key)
        if hit is None or time.monotonic() - hit[0] > self.manager.cache_ttl:
            return None
        active = self.manager.cached(key)
        return active if active is not None and active.user == hit[1].user else None

    def forget(self) -> None:
        """Drop the checked tokens this process remembers (after a revocation here)."""
        with self._lock:
            self._grants.clear()

    def _grant(self, access_token: str, key: str) -> TokenGrant | None:
        # Remembered under the derived session token: the process keeps no access token.
        ttl = self.manager.cache_ttl
        now = time.monotonic()
        if ttl > 0:
            hit = self._grants.get(key)
            if hit is not None and now - hit[0] <= ttl:
                return hit[1]
        grant = self.tokens.verify(access_token)
        if grant is not None and ttl > 0:
            with self._lock:
                self._grants[key] = (now, grant)
                while len(self._grants) > self._cache_size:
                    self._grants.popitem(last=False)
        return grant
