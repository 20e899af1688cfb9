"""Pages the portal renders on the server (Jinja2 templates), and its 503 answer."""

from __future__ import annotations

from gradio_portal.pages.render import SECURITY_HEADERS, Pages

__all__ = ["SECURITY_HEADERS", "Pages"]
