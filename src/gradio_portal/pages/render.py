"""Server-rendered pages (Jinja2): sign-in, account and admin pages, and plain messages."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.datastructures import Headers
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Receive, Scope, Send

from gradio_portal._errors import UNAVAILABLE

__all__ = ["NO_ACCESS", "Pages"]

NO_ACCESS = (
    "You do not have access to this app: it is open to some groups only. Ask an administrator "
    "to add you to one of them."
)

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "content-security-policy": (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; "
        "form-action 'self'; base-uri 'none'; object-src 'none'"
    ),
    "cache-control": "no-store",
}


class Pages:
    def __init__(self, site_name: str) -> None:
        self.site_name = site_name
        self._env = Environment(
            loader=PackageLoader("gradio_portal.pages", "templates"),
            autoescape=select_autoescape(default=True),
        )

    def render(self, name: str, *, status: int = 200, **values: Any) -> HTMLResponse:
        html = self._env.get_template(name).render(site_name=self.site_name, **values)
        return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)

    def message(
        self,
        title: str,
        message: str,
        *,
        status: int = 200,
        link: str | None = None,
        link_text: str = "",
    ) -> HTMLResponse:
        return self.render(
            "message.html",
            status=status,
            title=title,
            message=message,
            link=link,
            link_text=link_text,
        )

    def unavailable(self, accept: str) -> Response:
        """The 503 answer while the database or Redis is down: a page, or JSON for a script."""
        response: Response
        if "text/html" in accept:
            response = self.message("Temporarily unavailable", UNAVAILABLE, status=503)
        else:
            response = JSONResponse(
                {"detail": UNAVAILABLE}, status_code=503, headers={"cache-control": "no-store"}
            )
        response.headers["retry-after"] = "5"
        return response

    def no_access(self, accept: str) -> Response:
        """The 403 answer to a signed-in user outside an app's groups: a page, or JSON."""
        if "text/html" in accept:
            return self.message(
                "No access to this app",
                NO_ACCESS,
                status=403,
                link="/",
                link_text="Your apps",
            )
        return JSONResponse(
            {"detail": NO_ACCESS}, status_code=403, headers={"cache-control": "no-store"}
        )

    async def no_access_app(self, scope: Scope, receive: Receive, send: Send) -> None:
        """:meth:`no_access` as an ASGI app, for the mount guard."""
        await self.no_access(Headers(scope=scope).get("accept", ""))(scope, receive, send)

    async def unavailable_app(self, scope: Scope, receive: Receive, send: Send) -> None:
        """:meth:`unavailable` as an ASGI app, for middleware that has no request object."""
        accept = Headers(scope=scope).get("accept", "")
        await self.unavailable(accept)(scope, receive, send)
