"""Login, logout and first-run setup pages."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from gradio_portal._errors import AuthenticationError, UserError
from gradio_portal.auth.csrf import CSRF_COOKIE
from gradio_portal.auth.forms import FORM_RESPONSES, landing_page
from gradio_portal.auth.oidc import OIDC_LOGIN_PATH
from gradio_portal.navigation.urls import safe_redirect_target
from gradio_portal.sessions.middleware import active_session, read_cookie

if TYPE_CHECKING:
    from gradio_portal.portal import Portal

__all__ = ["build_auth_router"]

log = logging.getLogger("gradio_portal.auth")

FieldStr = Annotated[str, Form(max_length=4096)]
OptionalField = Annotated[str, Form(max_length=4096)]


def build_auth_router(portal: Portal) -> APIRouter:
    """The routes for signing in and out; they close over ``portal``'s services."""
    # In the OpenAPI document (HTML answers, each status described) so that schema-driven
    # fuzzing covers the forms that matter most.
    router = APIRouter(
        tags=["login"], default_response_class=HTMLResponse, responses=FORM_RESPONSES
    )
    settings = portal.settings
    pages = portal.pages
    csrf = portal.csrf
    login_path = settings.login_path

    def next_target(value: str | None) -> str:
        return landing_page(portal, value)

    def login_page(
        request: Request, *, next_value: str, error: str = "", username: str = "", status: int = 200
    ) -> Response:
        nonce = read_cookie(request.headers, CSRF_COOKIE) or csrf.new_nonce()
        response = pages.render(
            "login.html",
            status=status,
            title="Sign in",
            login_path=login_path,
            csrf_token=csrf.token_for("login:" + nonce),
            next=next_value,
            error=error,
            username=username,
            oidc_enabled=portal.oidc is not None,
            oidc_path=OIDC_LOGIN_PATH,
            oidc_name=portal.oidc.display_name if portal.oidc is not None else "",
        )
        portal.set_cookie(response, request, CSRF_COOKIE, nonce, max_age=None)
        return response

    @router.get(login_path)
    async def login_form(request: Request, next: str = "") -> Response:
        if active_session(request) is not None:
            return RedirectResponse(next_target(next), status_code=303)
        return login_page(request, next_value=next_target(next) if next else "")

    @router.post(login_path)
    async def login(
        request: Request,
        username: FieldStr = "",
        password: FieldStr = "",
        csrf_token: OptionalField = "",
        next: OptionalField = "",
    ) -> Response:
        nonce = read_cookie(request.headers, CSRF_COOKIE)
        if not csrf.same_origin(request) or not csrf.valid(
            "login:" + nonce if nonce else None, csrf_token
        ):
            return login_page(
                request,
                next_value=next,
                username=username[:256],
                status=403,
                error="This form expired or came from another site. Please sign in again.",
            )
        address = request.client.host if request.client else "unknown"
        account = username.strip().casefold()[:256]
        if not portal.throttle.allowed(account, address):
            wait = portal.throttle.retry_after(account, address)
            response = login_page(
                request,
                next_value=next,
                username=username[:256],
                status=429,
                error=f"Too many sign-in attempts. Try again in {wait} seconds.",
            )
            response.headers["retry-after"] = str(wait)
            return response
        try:
            user = await run_in_threadpool(portal.users.authenticate, username[:256], password)
        except AuthenticationError as exc:
            portal.throttle.failed(account, address)
            log.info("failed sign-in for %r from %s", account[:64], address)
            return login_page(
                request, next_value=next, username=username[:256], status=401, error=str(exc)
            )
        portal.throttle.reset(account)
        response = RedirectResponse(next_target(next), status_code=303)
        await portal.start_session(request, response, user)
        return response

    @router.get("/logout")
    async def logout_confirm(request: Request) -> Response:
        active = active_session(request)
        if active is None:
            return RedirectResponse(login_path, status_code=303)
        back = safe_redirect_target(request.headers.get("referer"), default=portal.home_path)
        return pages.render(
            "logout.html",
            title="Sign out",
            user=active.user,
            csrf_token=csrf.token_for("session:" + active.key),
            back=back if back.startswith("/") else portal.home_path,
        )

    @router.post("/logout")
    async def logout(
        request: Request, csrf_token: OptionalField = "", everywhere: OptionalField = ""
    ) -> Response:
        active = active_session(request)
        if active is None:
            return RedirectResponse(login_path, status_code=303)
        if not csrf.same_origin(request) or not csrf.valid("session:" + active.key, csrf_token):
            return pages.message(
                "Not signed out",
                "This sign-out form expired or came from another site. Use the sign-out "
                "button of the portal again.",
                status=403,
                link="/logout",
                link_text="Sign out",
            )
        if everywhere:
            await run_in_threadpool(portal.sessions.end_all, active.user.id)
        else:
            await run_in_threadpool(portal.sessions.logout, active.token)
        response = RedirectResponse(login_path, status_code=303)
        portal.clear_session_cookie(response, request)
        return response

    @router.get("/setup")
    async def setup_form(request: Request, token: str = "") -> Response:
        if not await run_in_threadpool(portal.setup_allowed, token):
            return _setup_gone(portal)
        return pages.render("setup.html", title="Set up", token=token, username="", error="")

    @router.post("/setup")
    async def setup(
        request: Request,
        token: FieldStr = "",
        username: FieldStr = "",
        password: FieldStr = "",
        confirm: FieldStr = "",
    ) -> Response:
        if not await run_in_threadpool(portal.setup_allowed, token):
            return _setup_gone(portal)

        def again(error: str) -> Response:
            return pages.render(
                "setup.html",
                status=400,
                title="Set up",
                token=token,
                username=username[:64],
                error=error,
            )

        if password != confirm:
            return again("The two passwords differ.")
        try:
            user = await run_in_threadpool(
                portal.users.create, username, password, roles=("admin",)
            )
        except UserError as exc:
            return again(str(exc).capitalize() + ".")
        await run_in_threadpool(portal.setup_tokens.clear)
        response = RedirectResponse(portal.home_path, status_code=303)
        await portal.start_session(request, response, user)
        return response

    return router


def _setup_gone(portal: Portal) -> Response:
    return portal.pages.message(
        "Setup link not valid",
        "This setup link was used already, has expired, or the portal has users. Sign in, or "
        "ask an administrator (`gradio-portal users add NAME --admin --password-stdin`).",
        status=404,
        link=portal.settings.login_path,
        link_text="Sign in",
    )
