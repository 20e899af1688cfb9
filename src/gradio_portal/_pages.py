"""Server-rendered pages (Jinja2): login, logout, setup and plain messages."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Receive, Scope, Send

__all__ = ["Pages"]

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
            loader=PackageLoader("gradio_portal.auth", "templates"),
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

    async def unavailable(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI app answering 503 when the database or Redis is down."""
        text = (
            "The portal cannot reach its database right now. Nothing was lost: "
            "try again in a moment."
        )
        accept = dict(scope.get("headers", [])).get(b"accept", b"")
        response: Response
        if b"text/html" in accept:
            response = self.message("Temporarily unavailable", text, status=503)
        else:
            response = JSONResponse({"detail": text}, status_code=503)
        response.headers["retry-after"] = "5"
        await response(scope, receive, send)
