"""Personal access tokens in the browser: a user's own, and every user's for administrators.

- ``GET /account/tokens`` lists the user's tokens (label, start of the token, created, last
  used, expiry, state) with a form to make one; ``POST /account/tokens`` makes it and shows
  the secret once, on the answer to that POST (never stored, never cached).
- ``POST /account/tokens/revoke`` revokes one of the user's own tokens.
- ``GET /admin/tokens`` lists every user's tokens for administrators;
  ``POST /admin/tokens/revoke`` revokes anyone's.

These pages need a browser sign-in: a request signed in with a token cannot make tokens (a
leaked token must not be able to renew itself).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from gradio_portal._errors import UserError
from gradio_portal.auth.forms import (
    FORM_RESPONSES,
    FormField,
    administrator,
    browser_account,
    form_token,
    genuine_post,
    refused,
)
from gradio_portal.auth.services import AuthServices
from gradio_portal.sessions import ActiveSession
from gradio_portal.users import Account
from gradio_portal.users.tokens import AccessToken

__all__ = ["ADMIN_TOKENS_PATH", "TOKENS_PATH", "build_access_tokens_router"]

TOKENS_PATH = "/account/tokens"
ADMIN_TOKENS_PATH = "/admin/tokens"
EXPIRY_CHOICES = (7, 30, 90, 365)
"""Days a new token may live, offered on the form; "never" is offered too."""

_NOTICES = {"revoked": "Token revoked: it no longer works anywhere."}
TokenId = Annotated[int, Form(ge=1, le=2**31 - 1)]


def build_access_tokens_router(services: AuthServices) -> APIRouter:
    router = APIRouter(tags=["account"], default_response_class=HTMLResponse)
    pages = services.pages

    async def tokens_page(
        active: ActiveSession,
        account: Account,
        *,
        new_token: str = "",
        example_url: str = "",
        notice: str = "",
        error: str = "",
        status: int = 200,
    ) -> Response:
        tokens = await run_in_threadpool(services.tokens.list, account.user.username)
        response = pages.render(
            "account_tokens.html",
            status=status,
            title="Access tokens",
            user=account.user,
            tokens=[_row(t) for t in tokens],
            new_token=new_token,
            example_url=example_url,
            notice=notice,
            error=error,
            expiry_choices=EXPIRY_CHOICES,
            csrf_token=form_token(services, active),
            action=TOKENS_PATH,
            admin_view=False,
        )
        response.headers["cache-control"] = "no-store"
        return response

    @router.get(TOKENS_PATH, responses=FORM_RESPONSES)
    async def list_tokens(request: Request, done: str = "") -> Response:
        found = await browser_account(services, request)
        if isinstance(found, Response):
            return found
        return await tokens_page(*found, notice=_NOTICES.get(done, ""))

    @router.post(TOKENS_PATH, responses=FORM_RESPONSES)
    async def create_token(
        request: Request,
        label: FormField = "",
        expires_days: FormField = "",
        csrf_token: FormField = "",
    ) -> Response:
        found = await browser_account(services, request)
        if isinstance(found, Response):
            return found
        active, account = found
        if not genuine_post(services, request, active, csrf_token):
            return refused(services, TOKENS_PATH)
        days = int(expires_days) if expires_days.isdigit() else None
        if expires_days and days is None:
            return await tokens_page(
                active, account, status=400, error="Choose how long the token lives."
            )
        try:
            secret, made = await run_in_threadpool(
                lambda: services.tokens.create(
                    account.user.username, label=label, expires_days=days
                )
            )
        except UserError as exc:
            return await tokens_page(active, account, status=400, error=str(exc).capitalize())
        await services.events.emit(
            "token.created", request, user=account.user.username, token=made.shown, label=made.label
        )
        # The snippet shown with the token calls the home app of this very site.
        home = services.landing.home
        path = home if home.endswith("/") and home != "/" else "/app/"
        example_url = str(request.base_url).rstrip("/") + path
        return await tokens_page(active, account, new_token=secret, example_url=example_url)

    async def revoke(
        request: Request, token_id: int, csrf_token: str, *, any_users: bool
    ) -> Response:
        """Revoke one token: the caller's own, or (``any_users``, administrators) anyone's."""
        back = ADMIN_TOKENS_PATH if any_users else TOKENS_PATH
        found = await (administrator if any_users else browser_account)(services, request)
        if isinstance(found, Response):
            return found
        active, account = found
        if not genuine_post(services, request, active, csrf_token):
            return refused(services, back)
        # Scoped to the user unless an administrator asks: someone else's token id is "not
        # found", not revoked.
        owner = None if any_users else account.user.username
        try:
            revoked = await run_in_threadpool(
                lambda: services.tokens.revoke(token_id, username=owner)
            )
        except UserError:
            return pages.message(
                "No such token",
                "That token does not exist" + ("." if any_users else ", or is not yours."),
                status=404,
                link=back,
                link_text="All tokens" if any_users else "Your tokens",
            )
        services.bearer.forget()
        await services.events.emit(
            "token.revoked",
            request,
            user=account.user.username,
            target=revoked.username if revoked.username != account.user.username else None,
            token=revoked.shown,
        )
        return RedirectResponse(back + "?done=revoked", status_code=303)

    @router.post(TOKENS_PATH + "/revoke", responses=FORM_RESPONSES)
    async def revoke_own(
        request: Request, token_id: TokenId, csrf_token: FormField = ""
    ) -> Response:
        return await revoke(request, token_id, csrf_token, any_users=False)

    @router.get(ADMIN_TOKENS_PATH, responses=FORM_RESPONSES)
    async def list_all(request: Request, done: str = "") -> Response:
        found = await administrator(services, request)
        if isinstance(found, Response):
            return found
        active, account = found
        tokens = await run_in_threadpool(services.tokens.list)
        response = pages.render(
            "account_tokens.html",
            title="Access tokens of all users",
            user=account.user,
            tokens=[_row(t) for t in tokens],
            notice=_NOTICES.get(done, ""),
            csrf_token=form_token(services, active),
            action=ADMIN_TOKENS_PATH,
            admin_view=True,
        )
        response.headers["cache-control"] = "no-store"
        return response

    @router.post(ADMIN_TOKENS_PATH + "/revoke", responses=FORM_RESPONSES)
    async def revoke_any(
        request: Request, token_id: TokenId, csrf_token: FormField = ""
    ) -> Response:
        return await revoke(request, token_id, csrf_token, any_users=True)

    return router


def _when(moment: datetime | None, never: str) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else never


def _row(token: AccessToken) -> dict[str, object]:
    return {
        "id": token.id,
        "username": token.username,
        "label": token.label or "(no label)",
        "shown": token.shown,
        "created": _when(token.created_at, ""),
        "last_used": _when(token.last_used_at, "never"),
        "expires": _when(token.expires_at, "never"),
        "state": token.state(),
    }
