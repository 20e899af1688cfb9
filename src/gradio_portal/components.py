"""Gradio components that know about the portal."""

from __future__ import annotations

from typing import Any

import gradio as gr

from gradio_portal.context import Context
from gradio_portal.navigation.redirect import Redirect

__all__ = ["logout_button"]


def logout_button(
    value: str = "Sign out", *, login_path: str = "/login", **button: Any
) -> gr.Button:
    """A button that signs the user out at once and lands on the login page.

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
        return Redirect(login_path, replace=True)

    component.click(sign_out, inputs=None, outputs=None, api_visibility="private")
    return component
