"""Starting and ending a signed-in session over HTTP: the session and its cookie together."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from gradio_portal.sessions.cookies import Cookies
from gradio_portal.sessions.manager import ActiveSession, SessionManager
from gradio_portal.sessions.middleware import active_session
from gradio_portal.users.user import User

__all__ = ["CLEAR_SITE_DATA", "SignIn"]

CLEAR_SITE_DATA = '"cache", "storage"'
"""Sent with every sign-out: the browser drops what apps stored (run history, state, cache)."""


class SignIn:
    """What every sign-in route (password, single sign-on, setup, password change) calls.

    Example::

        response = RedirectResponse("/app/", status_code=303)
        await sign_in.start(request, response, user)
    """

    def __init__(self, sessions: SessionManager, cookies: Cookies) -> None:
        self.sessions = sessions
        self.cookies = cookies

    async def start(self, request: Request, response: Response, user: User) -> ActiveSession:
        """Sign ``user`` in: a new session (the request's previous one ends) and its cookie."""
        previous = active_session(request)
        if previous is not None:
            await run_in_threadpool(self.sessions.logout, previous.token)
        active = await run_in_threadpool(
            lambda: self.sessions.login(
                user,
                user_agent=request.headers.get("user-agent", ""),
                address=request.client.host if request.client else "",
            )
        )
        self.cookies.set_session(response, request, active.token)
        return active

    async def end(self, active: ActiveSession, response: Response, *, everywhere: bool) -> None:
        """Sign out this session (or every session of its user), clear the cookie, and tell
        the browser to drop what the apps stored on this device (``Clear-Site-Data``)."""
        if everywhere:
            await run_in_threadpool(self.sessions.end_all, active.user.id)
        else:
            await run_in_threadpool(self.sessions.logout, active.token)
        self.cookies.clear_session(response)
        response.headers["clear-site-data"] = CLEAR_SITE_DATA
