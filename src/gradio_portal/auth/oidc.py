"""Single sign-on with OpenID Connect (Authlib): authorization code flow with PKCE.

``GET /login/oidc?next=...`` sends the browser to the provider; the provider sends it back to
``GET /login/oidc/callback``, which signs the user in. What is checked, and why:

- the provider's discovery document must name the configured issuer (a document served
  for another issuer is refused, OIDC Discovery 4.3);
- ``state`` must equal the one set in this browser's flow cookie (login CSRF: an attacker
  cannot make a victim complete the attacker's sign-in);
- PKCE ``S256``: the code is worthless without the verifier kept in the flow cookie;
- the ID token: signature against the provider's JWKS, ``iss`` equal to the configured
  issuer, ``aud`` containing the client id, ``exp``/``iat``, and ``nonce`` equal to the flow's
  (a token minted for another request cannot be replayed here).

The flow cookie is HttpOnly, SameSite=Lax (the callback is a top-level navigation from the
provider), lives ten minutes, is HMAC-signed with the portal secret, and is cleared by the
callback whatever its outcome. Identities map to users through :mod:`.identities`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from typing import Any

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App
from fastapi import APIRouter, Request
from joserfc.errors import JoseError
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from gradio_portal._errors import ConfigurationError
from gradio_portal.auth.forms import FORM_RESPONSES
from gradio_portal.auth.services import AuthServices
from gradio_portal.sessions.cookies import read_cookie
from gradio_portal.users.sso import SsoIdentities

__all__ = ["OIDC_CALLBACK_PATH", "OIDC_LOGIN_PATH", "OidcLogin"]

log = logging.getLogger("gradio_portal.auth.oidc")

# Authlib talks through httpx2 when it is installed (huggingface_hub, hence gradio, brings it)
# and through httpx otherwise: either one's errors may surface.
_HTTP_ERRORS: tuple[type[Exception], ...] = (httpx.HTTPError,)
_TRANSPORT_ERRORS: tuple[type[Exception], ...] = (httpx.TransportError,)
try:
    import httpx2

    _HTTP_ERRORS += (httpx2.HTTPError,)
    _TRANSPORT_ERRORS += (httpx2.TransportError,)
except ImportError:  # pragma: no cover - depends on what else is installed
    pass

OIDC_LOGIN_PATH = "/login/oidc"
OIDC_CALLBACK_PATH = "/login/oidc/callback"
FLOW_COOKIE = "gradio_portal_oidc"
FLOW_LIFETIME = 600


class SsoRefused(Exception):
    """The sign-in cannot be trusted; the message is for the log, never for the page."""


# Discovery or the redirect could not be prepared: the provider is unusable right now (502).
_START_FAILED: tuple[type[Exception], ...] = (
    *_HTTP_ERRORS,
    AuthlibBaseError,
    RuntimeError,  # Authlib: metadata without an authorization endpoint
    SsoRefused,
    ValueError,
)
# Anything that makes the callback untrustworthy ends it without a session (401).
_CALLBACK_REFUSED: tuple[type[Exception], ...] = (
    SsoRefused,
    AuthlibBaseError,
    JoseError,
    *_HTTP_ERRORS,  # the provider refused the exchange
    KeyError,
    TypeError,
    ValueError,
)


class OidcLogin:
    """The OIDC client of a portal, and its two routes (see the module docstring)."""

    @classmethod
    def configured(
        cls, services: AuthServices, identities: SsoIdentities, secret: str
    ) -> OidcLogin | None:
        """The client when the settings ask for single sign-on, else None."""
        settings = services.settings
        if not settings.oidc_issuer and not settings.oidc_client_id:
            return None
        return cls(services, identities, secret)

    def __init__(self, services: AuthServices, identities: SsoIdentities, secret: str) -> None:
        settings = services.settings
        if not settings.oidc_issuer or not settings.oidc_client_id:
            raise ConfigurationError(
                "single sign-on needs GRADIO_PORTAL_OIDC_ISSUER and GRADIO_PORTAL_OIDC_CLIENT_ID"
            )
        if "openid" not in settings.oidc_scopes.split():
            raise ConfigurationError(
                "GRADIO_PORTAL_OIDC_SCOPES must include 'openid' (no ID token otherwise)"
            )
        self.services = services
        self.issuer = settings.oidc_issuer.rstrip("/")
        self.display_name = settings.oidc_display_name
        self.identities = identities
        self._key = hashlib.sha256(b"oidc-flow:" + secret.encode()).digest()
        client_secret = settings.oidc_client_secret
        self.client: StarletteOAuth2App = OAuth().register(
            name="portal",
            client_id=settings.oidc_client_id,
            client_secret=client_secret.get_secret_value() if client_secret else None,
            server_metadata_url=self.issuer + "/.well-known/openid-configuration",
            client_kwargs={
                "scope": settings.oidc_scopes,
                "code_challenge_method": "S256",
                # A public client (no secret) authenticates by PKCE alone.
                "token_endpoint_auth_method": "client_secret_basic" if client_secret else "none",
                "timeout": 10,
            },
        )

    # -- routes ---------------------------------------------------------------------------

    def router(self) -> APIRouter:
        router = APIRouter(tags=["login"], default_response_class=HTMLResponse)
        router.add_api_route(OIDC_LOGIN_PATH, self.start, methods=["GET"], responses=FORM_RESPONSES)
        router.add_api_route(
            OIDC_CALLBACK_PATH,
            self.callback,
            methods=["GET"],
            name="oidc_callback",
            responses={**FORM_RESPONSES, 502: {"description": "Provider unreachable."}},
        )
        return router

    async def start(self, request: Request, next: str = "") -> Response:
        """Send the browser to the provider, remembering state, nonce and PKCE verifier."""
        try:
            await self._metadata()
            flow = await self.client.create_authorization_url(self._redirect_uri(request))
        except _START_FAILED as exc:
            log.warning("single sign-on unavailable: %s", exc)
            return self._failure(status=502, unavailable=True)
        response = RedirectResponse(flow["url"], status_code=303)
        self.services.cookies.set(
            response,
            request,
            FLOW_COOKIE,
            self._seal(
                {
                    "state": flow["state"],
                    "nonce": flow["nonce"],
                    "verifier": flow["code_verifier"],
                    "next": next[:2048],
                    "exp": time.time() + FLOW_LIFETIME,
                }
            ),
            max_age=FLOW_LIFETIME,
        )
        return response

    async def callback(
        self,
        request: Request,
        code: str = "",
        state: str = "",
        error: str = "",
    ) -> Response:
        flow = self._unseal(read_cookie(request.headers, FLOW_COOKIE))
        try:
            if flow is None:
                raise SsoRefused("no valid flow cookie (expired, forged, or another browser)")
            if error:
                raise SsoRefused(f"the provider answered {error[:64]!r}")
            if not code or not hmac.compare_digest(state.encode(), str(flow["state"]).encode()):
                raise SsoRefused("state does not match this browser's flow")
            claims = await self._claims(request, code, flow)
        except _TRANSPORT_ERRORS as exc:
            log.warning("single sign-on provider unreachable: %s", exc)
            return self._failure(status=502, unavailable=True)
        except _CALLBACK_REFUSED as exc:
            log.warning("single sign-on refused: %s", exc)
            return self._failure(status=401)
        user = await run_in_threadpool(
            lambda: self.identities.resolve(
                claims["iss"],
                str(claims["sub"]),
                claims,
                create=self.services.settings.oidc_create_users,
            )
        )
        if user is None:
            log.info("single sign-on for an unlinked or disabled identity %r", claims["sub"])
            return self._failure(status=403, not_allowed=True)
        claim = self.services.settings.oidc_groups_claim
        if claim:
            user = await run_in_threadpool(
                self.services.accounts.sync_groups, user.username, _claimed_groups(claims, claim)
            )
        response = RedirectResponse(
            self.services.landing.after_sign_in(str(flow["next"])), status_code=303
        )
        self.services.cookies.clear(response, FLOW_COOKIE)
        await self.services.sign_in.start(request, response, user)
        return response

    # -- the protocol -----------------------------------------------------------------------

    async def _metadata(self) -> dict[str, Any]:
        metadata: dict[str, Any] = await self.client.load_server_metadata()
        if str(metadata.get("issuer", "")).rstrip("/") != self.issuer:
            # Forget it, so a corrected provider is picked up without a restart.
            self.client.server_metadata = {}
            raise SsoRefused(
                f"discovery names issuer {metadata.get('issuer')!r}, expected {self.issuer!r}"
            )
        return metadata

    async def _claims(self, request: Request, code: str, flow: dict[str, Any]) -> dict[str, Any]:
        await self._metadata()
        token = await self.client.fetch_access_token(
            redirect_uri=self._redirect_uri(request),
            code=code,
            code_verifier=flow["verifier"],
        )
        if "id_token" not in token:
            raise SsoRefused("the token response has no ID token (is 'openid' in the scopes?)")
        claims = await self.client.parse_id_token(
            token,
            nonce=flow["nonce"],
            claims_options={"iss": {"essential": True, "values": [self.issuer]}},
        )
        if not claims.get("sub"):
            raise SsoRefused("the ID token has no subject")
        return dict(claims)

    def _redirect_uri(self, request: Request) -> str:
        configured = self.services.settings.oidc_redirect_uri
        return configured or str(request.url_for("oidc_callback"))

    # -- the flow cookie --------------------------------------------------------------------

    def _seal(self, flow: dict[str, Any]) -> str:
        raw = json.dumps(flow, separators=(",", ":")).encode()
        mac = hmac.new(self._key, raw, hashlib.sha256).digest()
        return f"{_b64(raw)}.{_b64(mac)}"

    def _unseal(self, value: str | None) -> dict[str, Any] | None:
        if not value or len(value) > 4096 or value.count(".") != 1:
            return None
        body, mac = value.split(".")
        try:
            raw, given = _unb64(body), _unb64(mac)
        except ValueError:
            return None
        if not hmac.compare_digest(hmac.new(self._key, raw, hashlib.sha256).digest(), given):
            return None
        flow = json.loads(raw)  # signed by us: well-formed
        if not isinstance(flow, dict) or not float(flow.get("exp", 0)) > time.time():
            return None
        return flow

    def _failure(
        self,
        *,
        status: int,
        unavailable: bool = False,
        not_allowed: bool = False,
    ) -> Response:
        if unavailable:
            text = f"{self.display_name} cannot be reached right now. Try again in a moment."
        elif not_allowed:
            text = "This account may not sign in here. Ask an administrator."
        else:
            text = "Single sign-on did not complete. Start again from the sign-in page."
        response = self.services.pages.message(
            "Not signed in",
            text,
            status=status,
            link=self.services.settings.login_path,
            link_text="Sign in",
        )
        self.services.cookies.clear(response, FLOW_COOKIE)
        return response


def _claimed_groups(claims: dict[str, Any], claim: str) -> list[str]:
    """The group names a claim holds: a list of names or one name; anything else, none."""
    value = claims.get(claim)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, str)]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    # binascii.Error is a ValueError; validate=True refuses stray characters.
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
