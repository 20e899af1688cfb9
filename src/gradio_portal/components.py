"""Gradio components that know about the portal."""

from __future__ import annotations

from typing import Any

import gradio as gr

from gradio_portal.context import Context
from gradio_portal.navigation.redirect import Redirect
from gradio_portal.navigation.urls import login_url

__all__ = ["logout_button"]


def logout_button(
    value: str = "Sign out", *, login_path: str = "/login", **button: Any
) -> gr.Button:
    """A button that signs the user out at once and lands on the login page.

    After signing in again the user returns to the page they left.

    Create it inside a ``gr.Blocks`` mounted with :meth:`Portal.mount`. The click is a Gradio
    event: a JSON POST carrying the SameSite=Lax session cookie, which another site cannot
    forge, so no confirmation page is needed (unlike a plain link to ``/logout``).

    Example::

        with gr.Blocks() as demo:
            logout_button(variant="secondary")
    """
    button.setdefault("variant", "secondary")
    component = gr.Button(value, **button)

    def sign_out(ctx: Context) -> Redirect:
        ctx.session.invalidate()
        # The same target the browser script picks when another request of this page sees
        # the ended session first (a 401): whichever arrives first, the user lands here.
        return Redirect(login_url(ctx.page, login_path=login_path), replace=True)

    component.click(sign_out, inputs=None, outputs=None, api_visibility="private")
    return component
