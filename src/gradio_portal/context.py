"""The context a Gradio callback asks for by type: who is signed in, their session, the page."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import gradio as gr

from gradio_portal._errors import SessionExpired
from gradio_portal.navigation.browser import PAGE_HEADER
from gradio_portal.navigation.urls import path_with_query
from gradio_portal.sessions.middleware import active_session
from gradio_portal.sessions.session import Session
from gradio_portal.users.user import User

__all__ = ["Context", "page_of"]


@dataclass(frozen=True, slots=True)
class Context(gr.EventData):
    """Everything a callback needs to know about who calls it and from where.

    Declare a parameter annotated ``Context`` in any event handler of a Blocks mounted with
    :meth:`Portal.mount` (sync, async, generator, ``ChatInterface`` fn; mixed freely with
    normal inputs) and the portal fills it in::

        def greet(name: str, ctx: Context) -> str:
            ctx.session["last_name"] = name           # persists server-side
            return f"Hello {name}, signed in as {ctx.user.display_name}"

    Attributes:
        user: the signed-in user.
        session: the server-side session; writes persist at once.
        query: the query parameters of the page as it is now (``/chat/?c=42`` gives
            ``{"c": "42"}``), including changes the page made to its address without a reload.
        page: path and query of the page the event came from (for a client that is not a
            browser page, the API call's own path and query).
        request: the raw ``gr.Request`` (its ``.request`` is the Starlette request).
    """

    user: User
    session: Session
    query: Mapping[str, str]
    page: str
    request: gr.Request

    # Why a subclass of gr.EventData: Gradio treats a parameter annotated with an EventData
    # class as one it fills in itself, not as an input. So `def greet(ctx: Context)` registers
    # without Gradio's "expected 1 arguments" warning and without a default value; the portal's
    # callback adapter then fills the parameter with a Context (not with Gradio's EventData).

    def __getattr__(self, name: str) -> Any:
        # gr.EventData looks unknown attributes up in its event data, which a Context has not.
        raise AttributeError(f"'Context' object has no attribute {name!r}")

    @classmethod
    def from_request(cls, request: gr.Request) -> Context:
        """Build the context of an event from Gradio's request object.

        Raises :class:`~gradio_portal.sessions.SessionExpired` when the session ended between
        the moment the event was queued and the moment it runs.
        """
        starlette_request = request.request
        if starlette_request is None:
            raise SessionExpired("this event carries no HTTP request: sign in again")
        active = active_session(starlette_request)
        if active is None:
            raise SessionExpired("the session has ended: sign in again")
        url = starlette_request.url
        page = page_of(starlette_request.headers, default=path_with_query(url.path, url.query))
        return cls(
            user=active.user,
            session=active.session,
            # From the page, not from the API call: Gradio adds the query the page had when
            # it loaded to its calls, and the page may have changed it since (replaceState).
            query=dict(parse_qsl(urlsplit(page).query, keep_blank_values=True)),
            page=page,
            request=request,
        )


def page_of(headers: Mapping[str, str], *, default: str) -> str:
    """The page (path and query) an API call came from, as far as the browser told us."""
    page = headers.get(PAGE_HEADER)
    if page and page.startswith("/") and not page.startswith("//") and len(page) <= 2048:
        return page
    referer = headers.get("referer")
    if referer:
        parts = urlsplit(referer)
        if parts.path:
            return path_with_query(parts.path, parts.query)
    return default
