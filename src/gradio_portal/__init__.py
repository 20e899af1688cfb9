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

The reference chat app is :func:`gradio_portal.chat.mount_chat`; test helpers are in
:mod:`gradio_portal.testing`. Importing this package changes nothing in Gradio: the portal's
Gradio speed-ups apply when the first :class:`Portal` is created.
"""

from __future__ import annotations

from importlib.metadata import version as _version

from gradio_portal._errors import (
    AuthenticationError,
    BackendError,
    ConfigurationError,
    MessageRejected,
    PortalError,
    SessionExpired,
    SessionStoreError,
    UserError,
)
from gradio_portal._runtime import tune_garbage_collector
from gradio_portal.components import logout_button
from gradio_portal.context import Context
from gradio_portal.navigation import Redirect, is_safe_url, login_url
from gradio_portal.portal import Portal
from gradio_portal.sessions import Session
from gradio_portal.settings import PortalSettings
from gradio_portal.users import User

__all__ = [
    "AuthenticationError",
    "BackendError",
    "ConfigurationError",
    "Context",
    "MessageRejected",
    "Portal",
    "PortalError",
    "PortalSettings",
    "Redirect",
    "Session",
    "SessionExpired",
    "SessionStoreError",
    "User",
    "UserError",
    "__version__",
    "is_safe_url",
    "login_url",
    "logout_button",
    "tune_garbage_collector",
]

__version__ = _version("gradio-portal")
