"""The audit trail for administrators: ``GET /admin/audit``, newest first, with filters.

``?user=NAME`` (what the user did, and what was done to them), ``?event=sign_in.failed``,
``?limit=N`` (at most 1000 on the page; ``gradio-portal audit`` reads more).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, Response

from gradio_portal.auth.forms import FORM_RESPONSES, administrator
from gradio_portal.auth.services import AuthServices

__all__ = ["AUDIT_PATH", "build_audit_router"]

AUDIT_PATH = "/admin/audit"


def build_audit_router(services: AuthServices) -> APIRouter:
    router = APIRouter(tags=["admin"], default_response_class=HTMLResponse)
    pages = services.pages

    @router.get(AUDIT_PATH, responses=FORM_RESPONSES)
    async def audit_page(
        request: Request,
        user: Annotated[str, Query(max_length=64)] = "",
        event: Annotated[str, Query(max_length=64)] = "",
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> Response:
        found = await administrator(services, request)
        if isinstance(found, Response):
            return found
        trail = services.events.trail
        events = (
            await run_in_threadpool(
                lambda: trail.list(limit=limit, username=user.strip() or None, event=event or None)
            )
            if trail is not None
            else []
        )
        response = pages.render(
            "admin_audit.html",
            title="Audit trail",
            events=[
                {
                    "at": e.at.strftime("%Y-%m-%d %H:%M:%S UTC"),
                    "event": e.event,
                    "user": e.username or "",
                    "target": e.target or "",
                    "address": e.address,
                    "details": ", ".join(f"{k}={v}" for k, v in sorted(e.details.items())),
                }
                for e in events
            ],
            user_filter=user,
            event_filter=event,
            limit=limit,
        )
        response.headers["cache-control"] = "no-store"
        return response

    return router
