"""The portal's cookies: one object writes and reads them all, with one set of attributes.

Every cookie the portal sets (the session, the login form's CSRF nonce, the single-sign-on flow)
is ``Path=/``, ``HttpOnly`` and ``SameSite=Lax``; ``Secure`` when the settings say so, or by
default when the request came over https. The session cookie's name and lifetime live here too,
so the middleware that reads it and the routes that write it cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import HTTPConnection, cookie_parser
from starlette.responses import Response

__all__ = ["Cookies", "read_cookie"]


def read_cookie(headers: Mapping[str, str], name: str) -> str | None:
    """The value of cookie ``name``; None for an absent or unparseable header."""
    raw = headers.get("cookie")
    if not raw:
        return None
    # Starlette's parser is lenient like browsers; SimpleCookie drops the whole header on
    # one malformed pair.
    return cookie_parser(raw).get(name)


class Cookies:
    """Writes and reads the portal's cookies.

    Args:
        session_name: the session cookie's name.
        session_max_age: its lifetime in seconds (the session's absolute timeout).
        secure: force ``Secure`` on (True) or off (False); None decides per request (https).
    """

    def __init__(self, *, session_name: str, session_max_age: int, secure: bool | None) -> None:
        self.session_name = session_name
        self.session_max_age = session_max_age
        self.secure = secure

    def session_token(self, headers: Mapping[str, str]) -> str | None:
        """The session token a request carries, if any."""
        return read_cookie(headers, self.session_name)

    def read(self, headers: Mapping[str, str], name: str) -> str | None:
        return read_cookie(headers, name)

    def set(
        self,
        response: Response,
        request: HTTPConnection,
        name: str,
        value: str,
        *,
        max_age: int | None,
    ) -> None:
        """Set cookie ``name``; ``max_age=None`` makes it last until the browser closes."""
        secure = self.secure if self.secure is not None else request.url.scheme == "https"
        response.set_cookie(
            name, value, max_age=max_age, path="/", httponly=True, samesite="lax", secure=secure
        )

    def clear(self, response: Response, name: str) -> None:
        response.delete_cookie(name, path="/", httponly=True, samesite="lax")

    def set_session(self, response: Response, request: HTTPConnection, token: str) -> None:
        self.set(response, request, self.session_name, token, max_age=self.session_max_age)

    def clear_session(self, response: Response) -> None:
        self.clear(response, self.session_name)
