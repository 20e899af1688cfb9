"""Share links over the API: make one, see whether there is one, end it.

``POST`` makes a read-only link to the conversation as it is now (a snapshot) and answers with
its URL, the only time the token is shown; sharing again replaces the link (the old one stops
working). ``GET`` says whether the conversation is shared and since when, never the token.
``DELETE`` ends the link. Only the owner can do any of this: another user's conversation gives
the same ``404`` as a missing one. Anyone signed in who has the link reads it at
``/shared/<token>`` (:mod:`gradio_portal.chat.shared_page`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import anyio.to_thread
from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse, Response

from gradio_portal import User
from gradio_portal.chat.api.deps import API_PREFIX, CSRF_HEADER, PRIVATE, ApiAuth, ConversationId
from gradio_portal.chat.sharing import ShareLinks
from gradio_portal.users.audit import SecurityEvents

__all__ = ["ShareOut", "ShareStatus", "build_shares_router"]

T = TypeVar("T")

_EXAMPLE_URL = "/shared/q3Xv0mJ9c1T8yQ2p7Lr4Zs6Wd5Nf0Hk2Ba8Ee1Gu3Oi"
_EXAMPLE_TIME = "2026-03-14T09:26:53Z"
_NOT_YOURS = "No such conversation."


class ShareOut(BaseModel):
    """A new share link (shown once: only its hash is kept)."""

    url: str = Field(
        description="The link, relative to this site: `/shared/<token>`. Whoever has it and "
        "is signed in reads the conversation as it was when shared.",
        examples=[_EXAMPLE_URL],
    )
    created_at: datetime = Field(
        description="When the link was made: the moment of the snapshot it shows.",
        examples=[_EXAMPLE_TIME],
    )


class ShareStatus(BaseModel):
    """Whether a conversation has a share link, and since when (never the link itself)."""

    shared: bool = Field(description="True while a link works.", examples=[True])
    created_at: datetime | None = Field(
        description="When the current link was made; null when not shared.",
        examples=[_EXAMPLE_TIME],
    )


def build_shares_router(
    links: ShareLinks, auth: ApiAuth, *, events: SecurityEvents | None = None
) -> APIRouter:
    """``POST``, ``GET`` and ``DELETE /api/conversations/{id}/share``.

    With ``events``, making and ending a link are recorded (``conversation.shared``,
    ``conversation.unshared``: the user and the conversation's id, never the token).
    """
    router = APIRouter(prefix=API_PREFIX, tags=["sharing"])
    missing: dict[int | str, dict[str, Any]] = {
        404: {"description": "No such conversation (or not yours)."}
    }
    refused: dict[int | str, dict[str, Any]] = {
        403: {
            "description": f"Sent with the session cookie but without the {CSRF_HEADER} "
            "header, or from another site."
        }
    }

    async def emit(event: str, request: Request, user: User, conversation_id: int) -> None:
        if events is not None:
            await events.emit(event, request, user=user.username, conversation=conversation_id)

    @router.post(
        "/{conversation_id}/share",
        response_model=ShareOut,
        status_code=201,
        responses={
            **missing,
            **refused,
            200: {
                "model": ShareOut,
                "description": "A new link replaced the earlier one, which no longer works.",
            },
            201: {"description": "The conversation is shared; the link is new."},
        },
        dependencies=[Depends(auth.same_site)],
        summary="Share a conversation (read-only link)",
        description=(
            "Makes a read-only link to the conversation **as it is now**: its title and "
            "messages are copied, so later messages stay private. Anyone signed in to this "
            "portal who has the link can read that copy. The link's token appears in this "
            "answer only. Sharing an already shared conversation makes a new link from the "
            "conversation as it is then, and the earlier link stops working (`200`). With the "
            f"session cookie, send the `{CSRF_HEADER}` header; with an access token, nothing "
            "more."
        ),
    )
    async def share(
        conversation_id: ConversationId, request: Request, user: User = Depends(auth.user)
    ) -> Response:
        link = await _db(links.create, user.id, conversation_id)
        if link is None:
            raise HTTPException(404, detail=_NOT_YOURS)
        await emit("conversation.shared", request, user, conversation_id)
        body = ShareOut(url=link.path, created_at=link.created_at)
        return JSONResponse(
            body.model_dump(mode="json"), status_code=200 if link.replaced else 201, headers=PRIVATE
        )

    @router.get(
        "/{conversation_id}/share",
        response_model=ShareStatus,
        responses=missing,
        summary="Is a conversation shared?",
        description=(
            "Whether the conversation has a working share link, and when it was made. The "
            "link itself is never shown again: share anew for a new one."
        ),
    )
    async def share_status(
        conversation_id: ConversationId, user: User = Depends(auth.user)
    ) -> ShareStatus:
        state = await _db(links.status, user.id, conversation_id)
        if state is None:
            raise HTTPException(404, detail=_NOT_YOURS)
        return ShareStatus(shared=state.shared_at is not None, created_at=state.shared_at)

    @router.delete(
        "/{conversation_id}/share",
        status_code=204,
        response_class=Response,
        responses={
            **refused,
            404: {"description": "The conversation is not shared, missing, or not yours."},
        },
        dependencies=[Depends(auth.same_site)],
        summary="Stop sharing a conversation",
        description=(
            "Ends the conversation's share link: it answers `404` from now on. The "
            f"conversation itself stays. With the session cookie, send the `{CSRF_HEADER}` "
            "header."
        ),
    )
    async def unshare(
        conversation_id: ConversationId, request: Request, user: User = Depends(auth.user)
    ) -> Response:
        if not await _db(links.revoke, user.id, conversation_id):
            raise HTTPException(404, detail="This conversation is not shared.")
        await emit("conversation.unshared", request, user, conversation_id)
        return Response(status_code=204, headers=PRIVATE)

    return router


async def _db(work: Callable[..., T], *args: Any) -> T:
    """Database work in a worker thread: the event loop keeps serving everyone else."""
    return await anyio.to_thread.run_sync(functools.partial(work, *args))
