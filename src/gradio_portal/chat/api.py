"""The chat's JSON API: a signed-in user's conversations, read, exported and deleted.

Every route answers for the session's user only. The portal's guard protects mounted Gradio
paths, not these, so the routes check the session themselves (one shared dependency): no
session gives ``401``; another user's conversation gives the same ``404`` as a missing one.

``DELETE`` is the one state-changing route. It needs a custom header, ``X-Requested-With``
(any value), and, when the browser sends ``Origin``, a same-origin one. A cross-site page cannot
add a custom header without a CORS preflight, which the portal never grants, so a forged
request fails before it is sent; scripts and API clients only add one header.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel
from starlette.responses import Response

from gradio_portal import User
from gradio_portal._errors import GET_A_TOKEN
from gradio_portal.auth.csrf import same_origin
from gradio_portal.chat.markdown import conversation_markdown
from gradio_portal.chat.repository import ConversationInfo, StoredMessage
from gradio_portal.chat.service import ChatService
from gradio_portal.sessions.middleware import active_session, by_access_token

__all__ = [
    "API_PREFIX",
    "CSRF_HEADER",
    "ConversationDetail",
    "ConversationList",
    "ConversationOut",
    "MessageOut",
    "build_chat_router",
]

API_PREFIX = "/api/conversations"
CSRF_HEADER = "X-Requested-With"
_MAX_ID = 2**63 - 1  # the database's integer range; larger ids are refused as invalid input
_PRIVATE = {"cache-control": "no-store"}

ConversationId = Annotated[int, Path(ge=1, le=_MAX_ID, description="The conversation's id.")]


class ConversationOut(BaseModel):
    """A conversation without its messages."""

    id: int
    title: str
    created_at: datetime
    updated_at: datetime


class MessageOut(BaseModel):
    """One message; ``complete`` is false for a reply cut off by stop, an error or a crash."""

    id: int
    role: str
    content: str
    complete: bool
    error: str | None
    created_at: datetime


class ConversationList(BaseModel):
    """One page of conversations, most recently active first."""

    items: list[ConversationOut]
    total: int
    limit: int
    offset: int


class ConversationDetail(ConversationOut):
    """A conversation with all its messages, oldest first."""

    messages: list[MessageOut]


def build_chat_router(service: ChatService, *, login_path: str = "/login") -> APIRouter:
    """The ``/api/conversations`` routes, answering from ``service`` for the session's user.

    ``login_path`` is named in the ``401`` answer to a request without a session.
    """
    router = APIRouter(prefix=API_PREFIX, tags=["conversations"])

    def signed_in_user(request: Request, response: Response) -> User:
        """The session's user (a FastAPI dependency); ``401`` without a session."""
        active = active_session(request)
        if active is None:
            raise HTTPException(
                401,
                detail=f"Not signed in, or the session ended: sign in at {login_path} and retry. "
                + GET_A_TOKEN,
                headers={**_PRIVATE, "www-authenticate": 'Bearer realm="gradio-portal"'},
            )
        response.headers.update(_PRIVATE)
        return active.user

    def same_site_script(request: Request, _user: User = Depends(signed_in_user)) -> None:
        """Refuse a state change that a cross-site page could have sent.

        Depends on the user so that an anonymous request gets ``401`` before ``403``. A script
        signed in with an access token (and no cookie) is no browser being tricked.
        """
        if by_access_token(request):
            return
        if not request.headers.get(CSRF_HEADER) or not same_origin(request.headers):
            raise HTTPException(
                403,
                detail=(
                    f"Refused: send the header '{CSRF_HEADER}: XMLHttpRequest' from this site "
                    "(requests from other sites cannot delete conversations)."
                ),
            )

    missing: dict[int | str, dict[str, Any]] = {
        404: {"description": "No such conversation (or not yours)."}
    }

    async def opened(
        user: User, conversation_id: int
    ) -> tuple[ConversationInfo, tuple[StoredMessage, ...]]:
        found = await service.open(user, conversation_id, every_message=True)
        if found is None:
            raise HTTPException(404, detail="No such conversation.")
        return found.conversation, found.messages

    @router.get("", response_model=ConversationList, summary="List your conversations")
    async def list_conversations(
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
        user: User = Depends(signed_in_user),
    ) -> ConversationList:
        page = await service.conversations(user, limit=limit, offset=offset)
        return ConversationList(
            items=[_conversation(info) for info in page.items],
            total=page.total,
            limit=limit,
            offset=offset,
        )

    @router.get(
        "/{conversation_id}",
        response_model=ConversationDetail,
        responses=missing,
        summary="Read a conversation with its messages",
    )
    async def read_conversation(
        conversation_id: ConversationId, user: User = Depends(signed_in_user)
    ) -> ConversationDetail:
        info, messages = await opened(user, conversation_id)
        return ConversationDetail(
            **_conversation(info).model_dump(), messages=[_message(m) for m in messages]
        )

    @router.get(
        "/{conversation_id}/export.md",
        response_class=Response,
        responses={**missing, 200: {"content": {"text/markdown": {}}}},
        summary="Download a conversation as Markdown",
    )
    async def export_conversation(
        conversation_id: ConversationId, user: User = Depends(signed_in_user)
    ) -> Response:
        info, messages = await opened(user, conversation_id)
        body = conversation_markdown(info, messages, author=user.display_name)
        return Response(
            body,
            media_type="text/markdown; charset=utf-8",
            headers={
                **_PRIVATE,
                "content-disposition": f'attachment; filename="conversation-{info.id}.md"',
                # Never sniffed into HTML: the text is user-written Markdown.
                "x-content-type-options": "nosniff",
            },
        )

    @router.delete(
        "/{conversation_id}",
        status_code=204,
        response_class=Response,
        responses={**missing, 403: {"description": f"The {CSRF_HEADER} header is missing."}},
        dependencies=[Depends(same_site_script)],
        summary="Delete a conversation and its messages",
    )
    async def delete_conversation(
        conversation_id: ConversationId, user: User = Depends(signed_in_user)
    ) -> Response:
        if not await service.delete(user, conversation_id):
            raise HTTPException(404, detail="No such conversation.")
        return Response(status_code=204, headers=_PRIVATE)

    return router


def _conversation(info: ConversationInfo) -> ConversationOut:
    return ConversationOut(
        id=info.id, title=info.title, created_at=info.created_at, updated_at=info.updated_at
    )


def _message(message: StoredMessage) -> MessageOut:
    return MessageOut(
        id=message.id,
        role=message.role,
        content=message.content,
        complete=message.complete,
        error=message.error,
        created_at=message.created_at,
    )
