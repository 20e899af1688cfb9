"""Navigation decided in Python: redirect values, URL safety and the browser adapter."""

from __future__ import annotations

from gradio_portal.navigation.redirect import Redirect
from gradio_portal.navigation.urls import is_safe_url, login_url, safe_redirect_target

__all__ = ["Redirect", "is_safe_url", "login_url", "safe_redirect_target"]
