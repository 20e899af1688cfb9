"""``/admin/chat``: administrators choose the chat's default model and system prompt, and which
models users may pick. A server-rendered form like the other admin pages (browser sign-in,
administrators only, CSRF token and same origin on the post); a change is a security event
(``chat.preferences_changed``) and reaches every process within the preferences' ttl.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from gradio_portal import BackendError, MessageRejected
from gradio_portal.auth.forms import (
    FORM_RESPONSES,
    FormField,
    administrator,
    administrator_post,
    form_token,
)
from gradio_portal.auth.services import AuthServices
from gradio_portal.chat.backends import available_models
from gradio_portal.chat.service import ChatService
from gradio_portal.sessions.manager import ActiveSession

__all__ = ["CHAT_ADMIN_PATH", "build_chat_admin_router"]

CHAT_ADMIN_PATH = "/admin/chat"
_MAX_MODELS = 100


def build_chat_admin_router(services: AuthServices, chat: ChatService) -> APIRouter:
    router = APIRouter(tags=["admin"], default_response_class=HTMLResponse)
    pages = services.pages

    async def page(
        active: ActiveSession,
        *,
        status: int = 200,
        notice: str = "",
        error: str = "",
        form: dict[str, str] | None = None,
    ) -> Response:
        chosen = await chat.fresh_preferences()
        try:
            listed = await available_models(chat.backend)
            listing = ""
        except BackendError as exc:
            listed, listing = (), str(exc)
        response = pages.render(
            "admin_chat.html",
            status=status,
            title="Chat settings",
            csrf_token=form_token(services, active),
            notice=notice,
            error=error,
            listed=listed,
            listing_error=listing,
            form=form
            or {
                "default_model": chosen.default_model or "",
                "offered_models": "\n".join(chosen.offered_models),
                "system_prompt": chosen.system_prompt or "",
            },
            updated=(
                f"{chosen.updated_at:%Y-%m-%d %H:%M} UTC by {chosen.updated_by}"
                if chosen.updated_at
                else ""
            ),
        )
        response.headers["cache-control"] = "no-store"
        return response

    @router.get(CHAT_ADMIN_PATH, responses=FORM_RESPONSES)
    async def chat_settings(request: Request, done: str = "") -> Response:
        caller = await administrator(services, request)
        if isinstance(caller, Response):
            return caller
        return await page(caller[0], notice="Saved." if done == "saved" else "")

    @router.post(CHAT_ADMIN_PATH, responses=FORM_RESPONSES)
    async def save_chat_settings(
        request: Request,
        default_model: FormField = "",
        offered_models: FormField = "",
        system_prompt: FormField = "",
        csrf_token: FormField = "",
    ) -> Response:
        caller = await administrator_post(services, request, csrf_token, CHAT_ADMIN_PATH)
        if isinstance(caller, Response):
            return caller
        active, account = caller
        form = {
            "default_model": default_model,
            "offered_models": offered_models,
            "system_prompt": system_prompt,
        }
        offered = list(dict.fromkeys(m.strip() for m in offered_models.splitlines() if m.strip()))
        model = default_model.strip()
        try:
            if len(offered) > _MAX_MODELS or any(len(m) > 200 for m in [*offered, model]):
                raise MessageRejected(
                    f"List at most {_MAX_MODELS} models, each id at most 200 characters."
                )
            if model and offered and model not in offered:
                raise MessageRejected(
                    f"The default model {model!r} is not among the models offered: add it to "
                    "the list, or choose one of them."
                )
            prompt = chat.clean_system_prompt(system_prompt)
        except MessageRejected as exc:
            return await page(active, status=400, error=str(exc), form=form)
        preferences = chat.preferences
        await run_in_threadpool(
            lambda: preferences.save(
                default_model=model or None,
                system_prompt=prompt,
                offered_models=offered,
                by=account.user.username,
            )
        )
        await services.events.emit(
            "chat.preferences_changed",
            request,
            user=account.user.username,
            models=len(offered),
            default_model=model or "",
        )
        return RedirectResponse(f"{CHAT_ADMIN_PATH}?done=saved", status_code=303)

    return router
