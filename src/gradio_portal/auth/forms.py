"""What the signed-in pages (account, admin) share: who is asking, and is a post genuine.

Every state-changing form of the portal posts a CSRF token bound to the session
(``"session:" + key``) and must come from the portal's own origin. Both checks live here so
that a new form cannot forget one of them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from gradio_portal.auth.services import AuthServices
from gradio_portal.navigation.urls import login_url, path_with_query
from gradio_portal.sessions import ActiveSession
from gradio_portal.sessions.middleware import active_session, by_access_token
from gradio_portal.users import Account

__all__ = [
    "FORM_RESPONSES",
    "FormField",
    "account_of",
    "administrator",
    "administrator_post",
    "browser_account",
    "form_token",
    "genuine_post",
    "refused",
    "sign_in_first",
]

FormField = Annotated[str, Form(max_length=4096)]

# Documented in the OpenAPI spec, so a schema-driven fuzzer can tell right from wrong.
FORM_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {"text/html": {}}, "description": "A page."},
    303: {"description": "Done, or sign in first: see Location."},
    400: {"content": {"text/html": {}}, "description": "The form has a mistake."},
    401: {"content": {"text/html": {}}, "description": "Not signed in."},
    403: {"content": {"text/html": {}}, "description": "Forbidden, or a forged form."},
    404: {"content": {"text/html": {}}, "description": "No such thing."},
    429: {"content": {"text/html": {}}, "description": "Too many attempts."},
    503: {"description": "The database is unreachable."},
}


def form_token(services: AuthServices, active: ActiveSession) -> str:
    """The CSRF token that forms shown to this session must post back."""
    return services.csrf.token_for("session:" + active.key)


def genuine_post(
    services: AuthServices, request: Request, active: ActiveSession, token: str
) -> bool:
    """True for a post from the portal's own page in this session (Origin and CSRF token)."""
    return services.csrf.same_origin(request) and services.csrf.valid(
        "session:" + active.key, token
    )


def refused(services: AuthServices, back: str) -> Response:
    return services.pages.message(
        "Not done",
        "This form expired or came from another site. Open the page again and retry.",
        status=403,
        link=back,
        link_text="Back",
    )


def sign_in_first(services: AuthServices, request: Request) -> Response:
    """Anonymous visitors: a page load goes to the login page, anything else gets 401."""
    if request.method in ("GET", "HEAD"):
        page = path_with_query(request.url.path, request.url.query)
        return RedirectResponse(
            login_url(page, login_path=services.settings.login_path), status_code=303
        )
    return services.pages.message(
        "Signed out",
        "Your session ended. Sign in and try again.",
        status=401,
        link=services.settings.login_path,
        link_text="Sign in",
    )


async def account_of(
    services: AuthServices, request: Request
) -> tuple[ActiveSession, Account] | None:
    """The session and the *current* account (not the login-time snapshot), or None.

    Roles and the disabled flag are read from the database on each call, so a demoted or
    disabled administrator loses access at once, whatever the session remembers.
    """
    active = active_session(request)
    if active is None:
        return None
    account = await run_in_threadpool(services.accounts.get_by_id, active.user.id)
    if account is None or not account.is_active:
        return None
    return active, account


async def browser_account(
    services: AuthServices, request: Request
) -> tuple[ActiveSession, Account] | Response:
    """:func:`account_of` for the account and admin pages, which need a browser sign-in: an
    anonymous visitor is sent to sign in, and a request signed in with an access token is
    refused (a leaked token must not manage tokens, sessions or users)."""
    if by_access_token(request):
        return services.pages.message(
            "Sign in with a browser",
            "These pages are for a browser signed in with a password or single sign-on, "
            "not for an access token.",
            status=403,
            link=services.settings.login_path,
            link_text="Sign in",
        )
    found = await account_of(services, request)
    return found if found is not None else sign_in_first(services, request)


async def administrator(
    services: AuthServices, request: Request
) -> tuple[ActiveSession, Account] | Response:
    """:func:`browser_account`, for administrators only (anyone else: a 403 page)."""
    found = await browser_account(services, request)
    if isinstance(found, Response) or found[1].user.is_admin:
        return found
    return services.pages.message(
        "Administrators only",
        "This page needs the admin role. Ask an administrator if you need it.",
        status=403,
        link="/",
        link_text="Back",
    )


async def administrator_post(
    services: AuthServices, request: Request, token: str, back: str
) -> tuple[ActiveSession, Account] | Response:
    """:func:`administrator` for a form post: also refused (a page linking ``back``) unless it
    is :func:`genuine_post` from this session."""
    found = await administrator(services, request)
    if isinstance(found, Response):
        return found
    if not genuine_post(services, request, found[0], token):
        return refused(services, back)
    return found
