"""``GET /shared/<token>``: a shared conversation, read-only, rendered on the server.

Whoever is signed in (with a browser or an access token: reading is all the link allows) and
has the link reads the snapshot its owner shared: the title, who shared it and when, and every
message, its Markdown rendered to HTML with any HTML in it escaped
(:func:`~gradio_portal.chat.markdown.markdown_html`). An anonymous browser is sent to sign in
and comes back; a script without a session gets ``401`` JSON, as under a mounted app. A
malformed, unknown or revoked token, like a disabled owner's, gives the same ``404`` page.

The token is in the URL, so the page must not hand it on: ``Referrer-Policy: no-referrer``
(and the same in the page's ``<meta name="referrer">``) keeps it out of the ``Referer`` of every
link and request the page makes, and ``X-Robots-Tag: noindex`` out of search engines. The
access log writes the path as ``/shared/…`` (gradio_portal._logs).
"""

from __future__ import annotations

import functools
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request
from markupsafe import Markup
from starlette.responses import JSONResponse, RedirectResponse, Response

from gradio_portal._errors import GET_A_TOKEN
from gradio_portal.chat.markdown import INTERRUPTED, markdown_html
from gradio_portal.chat.sharing import SHARED_PATH, SharedConversation, ShareLinks
from gradio_portal.navigation.urls import login_url
from gradio_portal.pages import Pages
from gradio_portal.sessions.middleware import active_session

__all__ = ["SHARED_HEADERS", "TEMPLATE", "build_shared_page_router"]

TEMPLATE = "shared_conversation.html"
SHARED_HEADERS = {"referrer-policy": "no-referrer", "x-robots-tag": "noindex, nofollow"}
"""Added to the pages' security headers on every answer under ``/shared/``."""

_SPEAKERS = {"assistant": "Assistant", "system": "System"}

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {}}, "description": "The shared conversation."},
    303: {"description": "Not signed in (a browser): sign in first, then back here."},
    401: {"description": "Not signed in (a script): sign in or send an access token."},
    404: {"content": {"text/html": {}}, "description": "No such link, or it was revoked."},
}


def build_shared_page_router(
    links: ShareLinks, pages: Pages, *, login_path: str = "/login"
) -> APIRouter:
    """The ``/shared/{token}`` page, rendered by ``pages``; anonymous browsers go to
    ``login_path``."""
    router = APIRouter(tags=["sharing"])

    @router.get(
        SHARED_PATH + "{token}",
        response_class=Response,
        responses=_RESPONSES,
        summary="Read a shared conversation (HTML page)",
        description=(
            "The read-only page a share link opens, for anyone signed in: the conversation as "
            "it was when shared. A page for browsers; `GET /api/conversations/{id}` is the "
            "owner's JSON."
        ),
    )
    async def shared_conversation(token: str, request: Request) -> Response:
        if active_session(request) is None:
            return _sign_in_first(request, token, login_path)
        response = await anyio.to_thread.run_sync(functools.partial(_page, links, pages, token))
        response.headers.update(SHARED_HEADERS)
        return response

    return router


def _sign_in_first(request: Request, token: str, login_path: str) -> Response:
    """A browser goes to the login page (and comes back); a script gets ``401`` JSON."""
    if "text/html" in request.headers.get("accept", ""):
        target = login_url(SHARED_PATH + token, login_path=login_path)
        return RedirectResponse(target, status_code=303, headers=SHARED_HEADERS)
    return JSONResponse(
        {
            "detail": f"Not signed in, or the session ended: sign in at {login_path} and "
            "retry. " + GET_A_TOKEN
        },
        status_code=401,
        headers={
            **SHARED_HEADERS,
            "cache-control": "no-store",
            "www-authenticate": 'Bearer realm="gradio-portal"',
        },
    )


def _page(links: ShareLinks, pages: Pages, token: str) -> Response:
    """Read the snapshot and render it (in a worker thread: both can take a while)."""
    shared = links.read(token)
    if shared is None:
        return pages.render(TEMPLATE, status=404, title="Link not found", conversation=None)
    return pages.render(
        TEMPLATE,
        title=shared.title or "Conversation",
        conversation=shared,
        messages=_messages(shared),
    )


def _messages(shared: SharedConversation) -> list[dict[str, Any]]:
    return [
        {
            "role": message.role,
            "speaker": shared.shared_by
            if message.role == "user"
            else _SPEAKERS.get(message.role, message.role),
            "at": message.created_at,
            # Safe by construction: markdown_html escapes every HTML of the text.
            "html": Markup(markdown_html(message.content)),
            "incomplete": not message.complete or bool(message.error),
            "notice": " ".join(message.error.split()) if message.error else INTERRUPTED,
            "files": message.files,
        }
        for message in shared.messages
    ]
