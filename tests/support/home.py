"""The portal's home UI: greets the signed-in user and offers to sign out."""

from __future__ import annotations

import gradio as gr

from gradio_portal.components import logout_button
from gradio_portal.context import Context

__all__ = ["build_home"]


def greeting(ctx: Context) -> str:
    visits = int(ctx.session.get("home_visits", 0)) + 1
    ctx.session["home_visits"] = visits
    return (
        f"## Welcome, {ctx.user.display_name}!\n\n"
        f"Signed in as **{ctx.user.username}**. This is visit {visits} in this session."
    )


def build_home() -> gr.Blocks:
    """A small Blocks shown by ``gradio-portal serve`` when no app is given."""
    with gr.Blocks(title="gradio-portal") as home:
        message = gr.Markdown("Loading…", elem_id="greeting")
        with gr.Row():
            gr.Button("Sign out…", link="/logout", link_target="_self", variant="secondary")
            logout_button("Sign out now", elem_id="sign-out-now")
        home.load(greeting, inputs=None, outputs=message)
    return home  # type: ignore[no-any-return]
