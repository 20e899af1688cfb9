"""The signed-in user's own account: active sessions (with revoke) and the password.

- ``GET /account/sessions`` lists the user's live sessions: device, address, last seen, and
  which one is "this device". Each can be revoked (``POST /account/sessions/revoke``, by its
  stored key, only among the user's own sessions); ``POST /account/sessions/end-all`` signs
  out everywhere, this device included.
- ``GET|POST /account/password`` changes the password after checking the current one
  (throttled like the login form), ends every other session and rotates this one.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from gradio_portal._errors import AuthenticationError, UserError
from gradio_portal.auth.devices import describe_user_agent
from gradio_portal.auth.forms import (
    FORM_RESPONSES,
    FormField,
    account_of,
    form_token,
    genuine_post,
    refused,
    sign_in_first,
)
from gradio_portal.auth.services import AuthServices
from gradio_portal.sessions import SessionRecord

__all__ = ["SESSIONS_PATH", "build_account_router"]

SESSIONS_PATH = "/account/sessions"
PASSWORD_PATH = "/account/password"

# Fixed notices chosen by key: the page never echoes text from the query string.
_NOTICES = {
    "password": "Password changed. Every other session was signed out.",
    "revoked": "That session was signed out.",
}


def build_account_router(services: AuthServices) -> APIRouter:
    router = APIRouter(tags=["account"], default_response_class=HTMLResponse)
    pages = services.pages

    def live(records: list[SessionRecord]) -> list[SessionRecord]:
        # Expired sessions linger in the store until someone presents them; hide them.
        now = time.time()
        manager = services.sessions
        return [
            r
            for r in records
            if now - r.last_seen_at <= manager.idle_timeout
            and now - r.created_at <= manager.absolute_timeout
        ]

    @router.get(SESSIONS_PATH, responses=FORM_RESPONSES)
    async def sessions_page(request: Request, done: str = "") -> Response:
        found = await account_of(services, request)
        if found is None:
            return sign_in_first(services, request)
        active, account = found
        records = live(
            await run_in_threadpool(services.sessions.store.list_for_user, active.user.id)
        )
        return pages.render(
            "account_sessions.html",
            title="Your sessions",
            user=account.user,
            notice=_NOTICES.get(done, ""),
            has_password=account.has_password,
            csrf_token=form_token(services, active),
            sessions=[
                {
                    "key": r.key,
                    "device": describe_user_agent(r.user_agent),
                    "address": r.address or "unknown",
                    "last_seen": _ago(r.last_seen_at),
                    "last_seen_utc": _utc(r.last_seen_at),
                    "signed_in_utc": _utc(r.created_at),
                    "current": r.key == active.key,
                }
                for r in records
            ],
        )

    @router.post(SESSIONS_PATH + "/revoke", responses=FORM_RESPONSES)
    async def revoke(request: Request, key: FormField = "", csrf_token: FormField = "") -> Response:
        found = await account_of(services, request)
        if found is None:
            return sign_in_first(services, request)
        active, _ = found
        if not genuine_post(services, request, active, csrf_token):
            return refused(services, SESSIONS_PATH)
        mine = await run_in_threadpool(services.sessions.store.list_for_user, active.user.id)
        # Scoped to the user: a key of someone else's session is "not found", not revoked.
        if key not in {r.key for r in mine}:
            return pages.message(
                "No such session",
                "That session already ended, or is not yours.",
                status=404,
                link=SESSIONS_PATH,
                link_text="Your sessions",
            )
        if key == active.key:
            response = RedirectResponse(services.login_path, status_code=303)
            await services.sign_in.end(active, response, everywhere=False)
            await services.events.emit(
                "sign_out", request, user=active.user.username, everywhere=False
            )
            return response
        await run_in_threadpool(services.sessions.store.delete, key)
        await services.events.emit("session.revoked", request, user=active.user.username)
        return RedirectResponse(SESSIONS_PATH + "?done=revoked", status_code=303)

    @router.post(SESSIONS_PATH + "/end-all", responses=FORM_RESPONSES)
    async def end_all(request: Request, csrf_token: FormField = "") -> Response:
        found = await account_of(services, request)
        if found is None:
            return sign_in_first(services, request)
        active, _ = found
        if not genuine_post(services, request, active, csrf_token):
            return refused(services, SESSIONS_PATH)
        response = RedirectResponse(services.login_path, status_code=303)
        await services.sign_in.end(active, response, everywhere=True)
        await services.events.emit("sessions.ended", request, user=active.user.username)
        return response

    def password_page(
        request: Request, *, csrf_token: str, error: str = "", status: int = 200
    ) -> Response:
        return pages.render(
            "account_password.html",
            status=status,
            title="Change password",
            csrf_token=csrf_token,
            error=error,
            action=PASSWORD_PATH,
            back=SESSIONS_PATH,
        )

    @router.get(PASSWORD_PATH, responses=FORM_RESPONSES)
    async def password_form(request: Request) -> Response:
        found = await account_of(services, request)
        if found is None:
            return sign_in_first(services, request)
        active, account = found
        if not account.has_password:
            return _sso_only(services)
        return password_page(request, csrf_token=form_token(services, active))

    @router.post(PASSWORD_PATH, responses=FORM_RESPONSES)
    async def change_password(
        request: Request,
        current_password: FormField = "",
        new_password: FormField = "",
        confirm: FormField = "",
        csrf_token: FormField = "",
    ) -> Response:
        found = await account_of(services, request)
        if found is None:
            return sign_in_first(services, request)
        active, account = found
        if not genuine_post(services, request, active, csrf_token):
            return refused(services, PASSWORD_PATH)
        if not account.has_password:
            return _sso_only(services)
        token = form_token(services, active)
        username = account.user.username
        address = request.client.host if request.client else "unknown"
        # A stolen session must not become a password-guessing oracle: same limits as login.
        if not services.throttle.allowed(username, address):
            wait = services.throttle.retry_after(username, address)
            response = password_page(
                request,
                csrf_token=token,
                status=429,
                error=f"Too many attempts. Try again in {wait} seconds.",
            )
            response.headers["retry-after"] = str(wait)
            return response
        try:
            await run_in_threadpool(services.accounts.authenticate, username, current_password)
        except AuthenticationError:
            services.throttle.failed(username, address)
            await services.events.emit(
                "password.change_failed", request, user=username, level=logging.WARNING
            )
            return password_page(
                request, csrf_token=token, status=400, error="The current password is wrong."
            )
        if new_password != confirm:
            return password_page(
                request, csrf_token=token, status=400, error="The two new passwords differ."
            )
        try:
            user = await run_in_threadpool(services.accounts.set_password, username, new_password)
        except UserError as exc:
            return password_page(
                request, csrf_token=token, status=400, error=str(exc).capitalize() + "."
            )
        await run_in_threadpool(lambda: services.sessions.end_all(user.id, keep=active.token))
        response = RedirectResponse(SESSIONS_PATH + "?done=password", status_code=303)
        # A new session id for this device too: the old cookie stops working everywhere.
        await services.sign_in.start(request, response, user)
        await services.events.emit("password.changed", request, user=username)
        return response

    return router


def _sso_only(services: AuthServices) -> Response:
    return services.pages.message(
        "No password to change",
        "This account signs in through single sign-on; change the password there.",
        status=400,
        link=SESSIONS_PATH,
        link_text="Your sessions",
    )


def _utc(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _ago(timestamp: float) -> str:
    seconds = max(0, int(time.time() - timestamp))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count > 1 else ''} ago"
    return "just now"
