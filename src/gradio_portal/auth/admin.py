"""User administration for accounts with the ``admin`` role: ``/admin/users``.

List, add, disable/enable and reset passwords. Disabling an account or resetting its
password ends all of its sessions at once. Whether the caller is an administrator is read
from the database on every request (not from the login-time snapshot in the session).
Non-administrators get 403; anonymous visitors are sent to sign in.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from gradio_portal._errors import UserError
from gradio_portal.auth.forms import (
    FORM_RESPONSES,
    FormField,
    administrator,
    administrator_post,
    form_token,
)
from gradio_portal.auth.services import AuthServices
from gradio_portal.sessions import ActiveSession
from gradio_portal.users import Account

__all__ = ["ADMIN_USERS_PATH", "build_admin_router"]

ADMIN_USERS_PATH = "/admin/users"

# Bounded so an absurd id is a 422, not a database overflow.
UserId = Annotated[int, Path(ge=1, le=2**31 - 1)]

_NOTICES = {
    "created": "User created.",
    "disabled": "User disabled; their sessions were ended.",
    "enabled": "User enabled.",
    "password": "Password reset; the user's sessions were ended.",
    "groups": "Groups changed; the user's sessions were ended, so the change applies now.",
    "groups_same": "Those were already the user's groups.",
}


def build_admin_router(services: AuthServices) -> APIRouter:
    router = APIRouter(tags=["admin"], default_response_class=HTMLResponse)
    pages = services.pages

    async def users_page(
        request: Request,
        active: ActiveSession,
        *,
        notice: str = "",
        error: str = "",
        form: dict[str, str] | None = None,
        status: int = 200,
    ) -> Response:
        accounts = await run_in_threadpool(services.accounts.list)
        return pages.render(
            "admin_users.html",
            status=status,
            title="Users",
            accounts=accounts,
            me=active.user.id,
            csrf_token=form_token(services, active),
            notice=notice,
            error=error,
            form=form or {},
            base=ADMIN_USERS_PATH,
        )

    async def checked_post(request: Request, token: str) -> ActiveSession | Response:
        caller = await administrator_post(services, request, token, ADMIN_USERS_PATH)
        return caller if isinstance(caller, Response) else caller[0]

    def done(what: str) -> Response:
        return RedirectResponse(f"{ADMIN_USERS_PATH}?done={what}", status_code=303)

    @router.get(ADMIN_USERS_PATH, responses=FORM_RESPONSES)
    async def list_users(request: Request, done: str = "") -> Response:
        caller = await administrator(services, request)
        if isinstance(caller, Response):
            return caller
        return await users_page(request, caller[0], notice=_NOTICES.get(done, ""))

    @router.post(ADMIN_USERS_PATH, responses=FORM_RESPONSES)
    async def add_user(
        request: Request,
        username: FormField = "",
        display_name: FormField = "",
        password: FormField = "",
        admin: FormField = "",
        groups: FormField = "",
        csrf_token: FormField = "",
    ) -> Response:
        active = await checked_post(request, csrf_token)
        if isinstance(active, Response):
            return active
        try:
            await run_in_threadpool(
                lambda: services.accounts.create(
                    username,
                    password,
                    display_name=display_name or None,
                    roles=("admin",) if admin else (),
                    groups=_group_list(groups),
                )
            )
        except UserError as exc:
            return await users_page(
                request,
                active,
                error=str(exc).capitalize() + ".",
                form={
                    "username": username[:64],
                    "display_name": display_name[:128],
                    "groups": groups[:512],
                },
                status=400,
            )
        await services.events.emit(
            "admin.user_created",
            request,
            user=active.user.username,
            target=username,
            admin=bool(admin),
        )
        return done("created")

    async def target(request: Request, active: ActiveSession, user_id: int) -> Account | Response:
        account = await run_in_threadpool(services.accounts.get_by_id, user_id)
        if account is None:
            return await users_page(request, active, error="No such user.", status=404)
        if account.user.id == active.user.id:
            # Locking oneself out, or ending one's own sessions from here, is never intended.
            return await users_page(
                request,
                active,
                error="Use your own account pages to change your own account.",
                status=400,
            )
        return account

    @router.post(ADMIN_USERS_PATH + "/{user_id}/disable", responses=FORM_RESPONSES)
    async def disable_user(
        request: Request, user_id: UserId, csrf_token: FormField = ""
    ) -> Response:
        active = await checked_post(request, csrf_token)
        if isinstance(active, Response):
            return active
        account = await target(request, active, user_id)
        if isinstance(account, Response):
            return account
        await run_in_threadpool(services.accounts.set_active, account.user.username, False)
        await run_in_threadpool(services.sessions.end_all, account.user.id)
        await services.events.emit(
            "admin.user_disabled", request, user=active.user.username, target=account.user.username
        )
        return done("disabled")

    @router.post(ADMIN_USERS_PATH + "/{user_id}/enable", responses=FORM_RESPONSES)
    async def enable_user(
        request: Request, user_id: UserId, csrf_token: FormField = ""
    ) -> Response:
        active = await checked_post(request, csrf_token)
        if isinstance(active, Response):
            return active
        account = await target(request, active, user_id)
        if isinstance(account, Response):
            return account
        await run_in_threadpool(services.accounts.set_active, account.user.username, True)
        await services.events.emit(
            "admin.user_enabled", request, user=active.user.username, target=account.user.username
        )
        return done("enabled")

    @router.post(ADMIN_USERS_PATH + "/{user_id}/password", responses=FORM_RESPONSES)
    async def reset_password(
        request: Request, user_id: UserId, password: FormField = "", csrf_token: FormField = ""
    ) -> Response:
        active = await checked_post(request, csrf_token)
        if isinstance(active, Response):
            return active
        account = await target(request, active, user_id)
        if isinstance(account, Response):
            return account
        try:
            await run_in_threadpool(services.accounts.set_password, account.user.username, password)
        except UserError as exc:
            return await users_page(request, active, error=str(exc).capitalize() + ".", status=400)
        await run_in_threadpool(services.sessions.end_all, account.user.id)
        await services.events.emit(
            "admin.password_reset", request, user=active.user.username, target=account.user.username
        )
        return done("password")

    @router.post(ADMIN_USERS_PATH + "/{user_id}/groups", responses=FORM_RESPONSES)
    async def set_groups(
        request: Request, user_id: UserId, groups: FormField = "", csrf_token: FormField = ""
    ) -> Response:
        active = await checked_post(request, csrf_token)
        if isinstance(active, Response):
            return active
        account = await target(request, active, user_id)
        if isinstance(account, Response):
            return account
        try:
            user, changed = await run_in_threadpool(
                services.accounts.set_groups, account.user.username, _group_list(groups)
            )
        except UserError as exc:
            return await users_page(request, active, error=str(exc).capitalize() + ".", status=400)
        if not changed:
            return done("groups_same")
        # Sessions remember the groups of their sign-in: a removal must take effect now.
        await run_in_threadpool(services.sessions.end_all, account.user.id)
        services.bearer.forget()
        await services.events.emit(
            "admin.groups_changed",
            request,
            user=active.user.username,
            target=account.user.username,
            groups=",".join(user.groups),
        )
        return done("groups")

    return router


def _group_list(text: str) -> list[str]:
    """Groups as typed in a form: separated by commas or spaces."""
    return text.replace(",", " ").split()
