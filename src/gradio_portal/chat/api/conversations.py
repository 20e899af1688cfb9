"""Listing, searching, reading, exporting and deleting a signed-in user's conversations.

Every route answers for the session's user only (:mod:`.deps`); another user's conversation
gives the same ``404`` as a missing one.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from starlette.responses import Response

from gradio_portal import User
from gradio_portal.chat.api.deps import API_PREFIX, CSRF_HEADER, PRIVATE, ApiAuth, ConversationId
from gradio_portal.chat.api.schemas import (
    ConversationDetail,
    ConversationList,
    conversation_out,
    message_out,
)
from gradio_portal.chat.markdown import conversation_markdown
from gradio_portal.chat.repository import ConversationInfo, StoredMessage
from gradio_portal.chat.service import ChatService

__all__ = ["MAX_QUERY_CHARS", "MISSING", "build_conversations_router"]

MAX_QUERY_CHARS = 200
"""The longest search text ``GET /api/conversations?q=`` accepts (longer is a ``422``)."""

MISSING: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such conversation (or not yours)."}
}


def build_conversations_router(service: ChatService, auth: ApiAuth) -> APIRouter:
    """List, read, export and delete conversations."""
    router = APIRouter(prefix=API_PREFIX, tags=["conversations"])

    async def opened(
        user: User, conversation_id: int
    ) -> tuple[ConversationInfo, tuple[StoredMessage, ...]]:
        found = await service.open(user, conversation_id, every_message=True)
        if found is None:
            raise HTTPException(404, detail="No such conversation.")
        return found.conversation, found.messages

    @router.get(
        "",
        response_model=ConversationList,
        summary="List your conversations, or search them",
        description=(
            "Your conversations, most recently active first. With `q`, only those whose title "
            "or one of whose messages contains every word of `q`, each word matched as the "
            "start of a word and ignoring case (`lisb` finds *Lisbon*); a `q` without any "
            "letter or digit finds nothing. An empty `q` lists everything."
        ),
    )
    async def list_conversations(
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
        q: Annotated[
            str | None,
            Query(
                max_length=MAX_QUERY_CHARS,
                description=(
                    "Search text: words (letters and digits) that must all appear, each as the "
                    "start of a word, in the title or in one message."
                ),
                examples=["lisbon budget"],
            ),
        ] = None,
        user: User = Depends(auth.user),
    ) -> ConversationList:
        if q is not None and q.strip():
            page = await service.search(user, q, limit=limit, offset=offset)
        else:
            page = await service.conversations(user, limit=limit, offset=offset)
        return ConversationList(
            items=[conversation_out(info) for info in page.items],
            total=page.total,
            limit=limit,
            offset=offset,
        )

    @router.get(
        "/{conversation_id}",
        response_model=ConversationDetail,
        responses=MISSING,
        summary="Read a conversation with its messages",
    )
    async def read_conversation(
        conversation_id: ConversationId, user: User = Depends(auth.user)
    ) -> ConversationDetail:
        found = await service.open(user, conversation_id, every_message=True)
        if found is None:
            raise HTTPException(404, detail="No such conversation.")
        return ConversationDetail(
            **conversation_out(found.conversation).model_dump(),
            messages=[message_out(m, found.files.get(m.id, ())) for m in found.messages],
        )

    @router.get(
        "/{conversation_id}/export.md",
        response_class=Response,
        responses={**MISSING, 200: {"content": {"text/markdown": {}}}},
        summary="Download a conversation as Markdown",
    )
    async def export_conversation(
        conversation_id: ConversationId, user: User = Depends(auth.user)
    ) -> Response:
        info, messages = await opened(user, conversation_id)
        body = conversation_markdown(info, messages, author=user.display_name)
        return Response(
            body,
            media_type="text/markdown; charset=utf-8",
            headers={
                **PRIVATE,
                "content-disposition": f'attachment; filename="conversation-{info.id}.md"',
                # Never sniffed into HTML: the text is user-written Markdown.
                "x-content-type-options": "nosniff",
            },
        )

    @router.delete(
        "/{conversation_id}",
        status_code=204,
        response_class=Response,
        responses={**MISSING, 403: {"description": f"The {CSRF_HEADER} header is missing."}},
        dependencies=[Depends(auth.same_site)],
        summary="Delete a conversation and its messages",
    )
    async def delete_conversation(
        conversation_id: ConversationId, user: User = Depends(auth.user)
    ) -> Response:
        if not await service.delete(user, conversation_id):
            raise HTTPException(404, detail="No such conversation.")
        return Response(status_code=204, headers=PRIVATE)

    return router
