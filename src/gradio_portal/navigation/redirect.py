"""Navigation as a value: a Gradio handler returns or raises a :class:`Redirect`."""

from __future__ import annotations

__all__ = ["Redirect"]


class Redirect(Exception):
    """Send the browser to ``url`` from a Gradio event handler.

    Raise it from any depth (also mid-stream in a generator, or in a ``load`` event), or
    return it as the handler's result or beside its outputs; the portal turns it into
    browser navigation. Only same-origin targets, or hosts listed in
    ``GRADIO_PORTAL_ALLOWED_REDIRECT_HOSTS``, are followed: anything else is refused with an
    error shown in the page.

    It derives from :class:`Exception`, not from :class:`~gradio_portal.PortalError`: an
    ``except PortalError`` around a handler's own code does not swallow a redirect.

    Example::

        def new_chat(ctx: Context) -> Redirect:
            conversation = create_conversation(ctx.user)
            return Redirect(f"/chat/?c={conversation.id}")

    Args:
        url: a path such as ``/chat/?c=42`` (or an allowed absolute URL).
        replace: replace the current history entry instead of adding one, so the back
            button skips the page being left.
    """

    def __init__(self, url: str, *, replace: bool = False) -> None:
        super().__init__(url)
        self.url = url
        self.replace = replace

    def __repr__(self) -> str:
        return f"Redirect({self.url!r}, replace={self.replace})"
