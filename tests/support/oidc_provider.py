"""A real OpenID Connect provider for tests: ``oidc-provider-mock`` on a loopback port.

The provider is the package's Flask app served by werkzeug in a thread. A thin WSGI layer in
front of it lets tests observe and bend the protocol without mocking the portal's side:

- it records the query of each authorization request and the form of each token request,
  so a test can check PKCE (``code_challenge`` = S256 of ``code_verifier``);
- ``host_override[path] = "evil.example:1"`` makes the provider believe it was reached
  under another host for that path; the mock derives its issuer from the Host header, so
  the discovery document or the ID token then names another issuer.

Signing in at the provider is a form post (``sub`` picks the user); :meth:`authorize`
does it like a browser would and returns the provider's redirect back to the portal.

Example::

    with OidcProvider() as provider:
        settings = make_settings(oidc_issuer=provider.issuer, oidc_client_id="portal")
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs

import httpx
import werkzeug.serving
from oidc_provider_mock import User, app

__all__ = ["OidcProvider", "User"]

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class OidcProvider:
    def __init__(self, users: Iterable[User] = (), *, require_nonce: bool = True) -> None:
        self.authorize_requests: list[dict[str, str]] = []
        self.token_requests: list[dict[str, str]] = []
        self.host_override: dict[str, str] = {}
        self._app: WsgiApp = app(require_nonce=require_nonce, user_claims=tuple(users))
        self._server = werkzeug.serving.make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.issuer = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,))

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/oauth2/authorize" and environ["REQUEST_METHOD"] == "GET":
            query = parse_qs(environ.get("QUERY_STRING", ""))
            self.authorize_requests.append({k: v[0] for k, v in query.items()})
        if path == "/oauth2/token":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length)
            self.token_requests.append({k: v[0] for k, v in parse_qs(body.decode()).items()})
            environ["wsgi.input"] = io.BytesIO(body)
        if path in self.host_override:
            environ["HTTP_HOST"] = self.host_override[path]
        return self._app(environ, start_response)

    def authorize(self, authorization_url: str, sub: str) -> str:
        """Sign ``sub`` in at the provider; return the Location it sends the browser to."""
        with httpx.Client(timeout=10) as client:
            page = client.get(authorization_url)
            assert page.status_code == 200, page.text[:500]
            answer = client.post(authorization_url, data={"sub": sub})
        assert answer.status_code == 302, answer.text[:500]
        return answer.headers["location"]

    def __enter__(self) -> OidcProvider:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)
        self._server.server_close()
