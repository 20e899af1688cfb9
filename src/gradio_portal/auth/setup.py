"""First run: a one-time link (``/setup?token=...``) creates the first administrator."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from gradio_portal._errors import UserError
from gradio_portal.auth.forms import FORM_RESPONSES, FormField
from gradio_portal.auth.services import AuthServices

__all__ = ["build_setup_router"]


def build_setup_router(services: AuthServices) -> APIRouter:
    """``GET|POST /setup``: the form that creates the first administrator and signs them in."""
    router = APIRouter(
        tags=["login"], default_response_class=HTMLResponse, responses=FORM_RESPONSES
    )
    pages = services.pages

    @router.get("/setup")
    async def setup_form(request: Request, token: str = "") -> Response:
        if not await run_in_threadpool(services.setup_tokens.allowed, token):
            return _setup_gone(services)
        return pages.render("setup.html", title="Set up", token=token, username="", error="")

    @router.post("/setup")
    async def setup(
        request: Request,
        token: FormField = "",
        username: FormField = "",
        password: FormField = "",
        confirm: FormField = "",
    ) -> Response:
        if not await run_in_threadpool(services.setup_tokens.allowed, token):
            return _setup_gone(services)

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
                services.accounts.create, username, password, roles=("admin",)
            )
        except UserError as exc:
            return again(str(exc).capitalize() + ".")
        await run_in_threadpool(services.setup_tokens.clear)
        response = RedirectResponse(services.landing.home, status_code=303)
        await services.sign_in.start(request, response, user)
        return response

    return router


def _setup_gone(services: AuthServices) -> Response:
    return services.pages.message(
        "Setup link not valid",
        "This setup link was used already, has expired, or the portal has users. Sign in, or "
        "ask an administrator (`gradio-portal users add NAME --admin --password-stdin`).",
        status=404,
        link=services.settings.login_path,
        link_text="Sign in",
    )
