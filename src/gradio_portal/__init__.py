"""gradio-portal: put Gradio apps behind real users, sessions and navigation.

Example::

    import gradio as gr
    from gradio_portal import Context, Portal

    def greet(ctx: Context) -> str:
        return f"Hello, {ctx.user.display_name}!"

    with gr.Blocks() as demo:
        out = gr.Markdown()
        demo.load(greet, outputs=out)

    portal = Portal()
    portal.mount(demo, path="/app")
    app = portal.app
"""

from __future__ import annotations

from gradio_portal._errors import (
    AuthenticationError,
    ConfigurationError,
    PortalError,
    SessionStoreError,
    UnsafeRedirectError,
    UserError,
)
from gradio_portal._runtime import tune_garbage_collector
from gradio_portal.chat import mount_chat
from gradio_portal.components import logout_button
from gradio_portal.context import Context
from gradio_portal.identity import User
from gradio_portal.navigation import Redirect, is_safe_url, login_url, redirect
from gradio_portal.portal import Portal
from gradio_portal.sessions import Session, SessionExpired
from gradio_portal.settings import PortalSettings

__all__ = [
    "AuthenticationError",
    "ConfigurationError",
    "Context",
    "Portal",
    "PortalError",
    "PortalSettings",
    "Redirect",
    "Session",
    "SessionExpired",
    "SessionStoreError",
    "UnsafeRedirectError",
    "User",
    "UserError",
    "__version__",
    "is_safe_url",
    "login_url",
    "logout_button",
    "mount_chat",
    "redirect",
    "tune_garbage_collector",
]

__version__ = "0.1.0"
