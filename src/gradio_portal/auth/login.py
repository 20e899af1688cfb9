"""Signing in and out with a password: ``/login`` and ``/logout``.

Each attempt is a security event (gradio_portal.observability.security) and, with metrics,
counted by outcome: success, failure (wrong name or password), throttled, refused (the form
expired or came from another site).
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from gradio_portal._errors import AuthenticationError
from gradio_portal.auth.csrf import CSRF_COOKIE
from gradio_portal.auth.forms import FORM_RESPONSES, FormField
from gradio_portal.auth.oidc import OIDC_LOGIN_PATH, OidcLogin
from gradio_portal.auth.services import AuthServices
from gradio_portal.navigation.urls import safe_redirect_target
from gradio_portal.observability import PortalMetrics, client_address
from gradio_portal.observability.metrics import SignInOutcome
from gradio_portal.sessions.cookies import read_cookie
from gradio_portal.sessions.middleware import active_session

__all__ = ["build_login_router"]


def build_login_router(
    services: AuthServices,
    *,
    oidc: OidcLogin | None = None,
    metrics: PortalMetrics | None = None,
) -> APIRouter:
    """The routes for signing in and out; ``oidc`` adds single sign-on to the sign-in page,
    ``metrics`` counts the sign-ins."""
    # In the OpenAPI document (HTML answers, each status described) so that schema-driven
    # fuzzing covers the forms that matter most.
    router = APIRouter(
        tags=["login"], default_response_class=HTMLResponse, responses=FORM_RESPONSES
    )
    settings = services.settings
    pages = services.pages
    csrf = services.csrf
    login_path = settings.login_path

    def next_target(value: str | None) -> str:
        return services.landing.after_sign_in(value)

    async def attempt(outcome: SignInOutcome, request: Request, event: str, username: str) -> None:
        if metrics is not None:
            metrics.sign_in(outcome)
        level = logging.INFO if outcome == "success" else logging.WARNING
        await services.events.emit(event, request, user=username, level=level)

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
            oidc_enabled=oidc is not None,
            oidc_path=OIDC_LOGIN_PATH,
            oidc_name=oidc.display_name if oidc is not None else "",
        )
        services.cookies.set(response, request, CSRF_COOKIE, nonce, max_age=None)
        return response

    @router.get(login_path)
    async def login_form(request: Request, next: str = "") -> Response:
        if active_session(request) is not None:
            return RedirectResponse(next_target(next), status_code=303)
        return login_page(request, next_value=next_target(next) if next else "")

    @router.post(login_path)
    async def login(
        request: Request,
        username: FormField = "",
        password: FormField = "",
        csrf_token: FormField = "",
        next: FormField = "",
    ) -> Response:
        nonce = read_cookie(request.headers, CSRF_COOKIE)
        if not csrf.same_origin(request) or not csrf.valid(
            "login:" + nonce if nonce else None, csrf_token
        ):
            await attempt("refused", request, "sign_in.refused", username)
            return login_page(
                request,
                next_value=next,
                username=username[:256],
                status=403,
                error="This form expired or came from another site. Please sign in again.",
            )
        address = client_address(request)
        account = username[:256]
        if not services.throttle.allowed(account, address):
            await attempt("throttled", request, "sign_in.throttled", account)
            wait = services.throttle.retry_after(account, address)
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
            user = await run_in_threadpool(services.accounts.authenticate, username[:256], password)
        except AuthenticationError as exc:
            services.throttle.failed(account, address)
            await attempt("failure", request, "sign_in.failed", account)
            return login_page(
                request, next_value=next, username=username[:256], status=401, error=str(exc)
            )
        services.throttle.reset(account)
        response = RedirectResponse(next_target(next), status_code=303)
        await services.sign_in.start(request, response, user)
        await attempt("success", request, "sign_in.succeeded", user.username)
        return response

    @router.get("/logout")
    async def logout_confirm(request: Request) -> Response:
        active = active_session(request)
        if active is None:
            return RedirectResponse(login_path, status_code=303)
        back = safe_redirect_target(request.headers.get("referer"), default=services.landing.home)
        return pages.render(
            "logout.html",
            title="Sign out",
            user=active.user,
            csrf_token=csrf.token_for("session:" + active.key),
            back=back if back.startswith("/") else services.landing.home,
        )

    @router.post("/logout")
    async def logout(
        request: Request, csrf_token: FormField = "", everywhere: FormField = ""
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
        response = RedirectResponse(login_path, status_code=303)
        await services.sign_in.end(active, response, everywhere=bool(everywhere))
        await services.events.emit(
            "sign_out", request, user=active.user.username, everywhere=bool(everywhere)
        )
        return response

    return router
