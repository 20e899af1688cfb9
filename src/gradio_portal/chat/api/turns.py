"""Chatting over the API: start a conversation, continue it, regenerate or edit the last turn.

Each route stores the user message first (the same rules as the chat page: a message is in the
database before the model is asked), then answers with the reply, in one of two ways:

- ``application/json`` (the default): once the reply is complete, ``{"id", "message", "reply"}``.
- ``Accept: text/event-stream``: server-sent events as the reply grows. ``conversation`` first
  (the conversation's id and the stored user message), then one ``token`` per piece of text
  (``{"text": "..."}``, to append), and last ``message``: the stored reply (with ``error`` when
  it failed). A client that goes away mid-reply leaves the text so far stored, marked
  incomplete, as the stop button does on the page. A session that ends while the reply
  streams (signed out elsewhere, the account disabled, the token revoked) stops it the same
  way within a few seconds, with a last ``error`` event instead of ``message``.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Body, Depends, HTTPException, Path, Request
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse, Response, StreamingResponse

from gradio_portal import MessageRejected, User
from gradio_portal.chat.api.deps import API_PREFIX, MAX_ID, PRIVATE, ApiAuth, ConversationId
from gradio_portal.chat.api.schemas import MessageOut, message_out
from gradio_portal.chat.repository import QuotaExceeded, StoredMessage, Turn
from gradio_portal.chat.service import ChatService, ReplyUpdate
from gradio_portal.sessions.middleware import active_session
from gradio_portal.sessions.session import Session
from gradio_portal.storage.models import utcnow

__all__ = ["EVENT_STREAM", "TurnIn", "TurnOut", "build_turns_router", "refusal"]

EVENT_STREAM = "text/event-stream"
LIVENESS_INTERVAL = 2.0
"""Seconds between checks, while a reply streams, that its session is still signed in."""
SESSION_ENDED = (
    "The session ended while the reply streamed (signed out, the account disabled or the "
    "token revoked): the reply stopped, and what was written is kept. Sign in again to go on."
)

MessageId = Annotated[int, Path(ge=1, le=MAX_ID, description="The message's id.")]


class TurnIn(BaseModel):
    """A message to send; ``model`` and ``system_prompt`` apply to a new conversation only."""

    message: str = Field(description="The text to send.", examples=["Plan a weekend in Lisbon."])
    model: str | None = Field(
        default=None,
        description="One of GET /api/models; null: the default. New conversations only.",
        examples=[None],
    )
    system_prompt: str | None = Field(
        default=None,
        description="Instructions for the model in this conversation; null: the default.",
        examples=["Answer in French."],
    )
    attachments: list[int] = Field(
        default=[],
        max_length=100,
        description="Ids of files uploaded with POST /api/attachments, sent with the message.",
        examples=[[]],
    )


class MessageIn(BaseModel):
    """A message to add to a conversation, or the new text of an edited one."""

    message: str = Field(description="The text to send.", examples=["And on Sunday?"])
    attachments: list[int] = Field(
        default=[],
        max_length=100,
        description="Ids of files uploaded with POST /api/attachments (new messages only).",
        examples=[[]],
    )


class TurnOut(BaseModel):
    """The conversation a turn went to, the stored user message and the stored reply."""

    id: int = Field(description="The conversation's id.")
    message: MessageOut
    reply: MessageOut


_EXAMPLE_STREAM = (
    "event: conversation\n"
    'data: {"id": 7, "message": {"id": 41, "role": "user", "content": "Hi", ...}}\n\n'
    "event: token\n"
    'data: {"text": "Hello"}\n\n'
    "event: token\n"
    'data: {"text": ", Alice"}\n\n'
    "event: message\n"
    'data: {"id": 42, "role": "assistant", "content": "Hello, Alice", "complete": true, ...}\n\n'
)

_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The complete reply (JSON), or the reply as it grows (server-sent "
        "events, with `Accept: text/event-stream`).",
        "content": {EVENT_STREAM: {"example": _EXAMPLE_STREAM}},
    },
    400: {"description": "The message is empty or too long, or the model is not offered."},
    403: {"description": "A cookie request without the X-Requested-With header."},
    429: {"description": "The daily message limit is reached (Retry-After: seconds)."},
}
_MISSING: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such conversation (or not yours)."}
}


def refusal(exc: MessageRejected) -> HTTPException:
    """The HTTP answer to a refused message: 429 with Retry-After for the daily limit."""
    if isinstance(exc, QuotaExceeded):
        wait = max(1, int((exc.resets_at - utcnow()).total_seconds()))
        return HTTPException(429, detail=str(exc), headers={"retry-after": str(wait), **PRIVATE})
    return HTTPException(400, detail=str(exc))


def build_turns_router(service: ChatService, auth: ApiAuth) -> APIRouter:
    """The routes that send messages and answer them."""
    router = APIRouter(prefix=API_PREFIX, tags=["conversations"])

    def cleaned(text: str) -> str:
        try:
            message = service.clean(text)
        except MessageRejected as exc:
            raise refusal(exc) from None
        if message is None:
            raise HTTPException(400, detail="The message is empty: type something to send.")
        return message

    async def answer(request: Request, user: User, turn: Turn) -> Response:
        if _wants_stream(request):
            active = active_session(request)
            return StreamingResponse(
                _events(service, user, turn, active.session if active is not None else None),
                media_type=EVENT_STREAM,
                # No proxy buffering: each event goes out as it is written.
                headers={**PRIVATE, "x-accel-buffering": "no"},
            )
        final = ReplyUpdate("", done=True)
        async with contextlib.aclosing(service.reply(user, turn)) as updates:
            async for update in updates:
                final = update
        body = TurnOut(
            id=turn.conversation.id,
            message=message_out(turn.user_message, turn.listed.get(turn.user_message.id, ())),
            reply=message_out(_reply(turn, final)),
        )
        return JSONResponse(body.model_dump(mode="json"), status_code=200, headers=PRIVATE)

    @router.post(
        "",
        response_model=TurnOut,
        responses=_ANSWERS,
        dependencies=[Depends(auth.same_site)],
        summary="Start a conversation with a message",
        description="Stores the message in a new conversation, asks the model and answers "
        "with its reply: as JSON once complete, or as server-sent events with `Accept: "
        "text/event-stream` (`conversation`, then `token` pieces to append, then `message`, "
        "the stored reply). A client that disconnects mid-reply leaves the text so far "
        "stored, marked incomplete.",
    )
    async def start_conversation(
        request: Request,
        turn_in: Annotated[TurnIn, Body()],
        user: User = Depends(auth.user),
    ) -> Response:
        text = cleaned(turn_in.message)
        try:
            turn = await service.start(
                user,
                None,
                text,
                model=turn_in.model,
                system_prompt=turn_in.system_prompt,
                attachments=turn_in.attachments,
            )
        except MessageRejected as exc:
            raise refusal(exc) from None
        return await answer(request, user, turn)

    @router.post(
        "/{conversation_id}/messages",
        response_model=TurnOut,
        responses={**_ANSWERS, **_MISSING},
        dependencies=[Depends(auth.same_site)],
        summary="Send a message in a conversation",
    )
    async def add_message(
        request: Request,
        conversation_id: ConversationId,
        message_in: Annotated[MessageIn, Body()],
        user: User = Depends(auth.user),
    ) -> Response:
        text = cleaned(message_in.message)
        try:
            turn = await service.add_message(
                user, conversation_id, text, attachments=message_in.attachments
            )
        except MessageRejected as exc:
            raise refusal(exc) from None
        if turn is None:
            raise HTTPException(404, detail="No such conversation.")
        return await answer(request, user, turn)

    @router.post(
        "/{conversation_id}/regenerate",
        response_model=TurnOut,
        responses={**_ANSWERS, **_MISSING},
        dependencies=[Depends(auth.same_site)],
        summary="Answer the last message again",
        description="Deletes the reply to the conversation's last user message and asks the "
        "model again. Counts as a message for the daily limit.",
    )
    async def regenerate(
        request: Request, conversation_id: ConversationId, user: User = Depends(auth.user)
    ) -> Response:
        try:
            turn = await service.answer_again(user, conversation_id)
        except MessageRejected as exc:
            raise refusal(exc) from None
        if turn is None:
            raise HTTPException(404, detail="No such conversation, or no message to answer.")
        return await answer(request, user, turn)

    @router.put(
        "/{conversation_id}/messages/{message_id}",
        response_model=TurnOut,
        responses={**_ANSWERS, **_MISSING, 409: {"description": "Not the last user message."}},
        dependencies=[Depends(auth.same_site)],
        summary="Edit the last message and send it again",
        description="Replaces the text of the conversation's last user message, deletes its "
        "reply and asks the model again.",
    )
    async def edit_message(
        request: Request,
        conversation_id: ConversationId,
        message_id: MessageId,
        message_in: Annotated[MessageIn, Body()],
        user: User = Depends(auth.user),
    ) -> Response:
        text = cleaned(message_in.message)
        try:
            turn = await service.answer_again(user, conversation_id, edited=(message_id, text))
        except QuotaExceeded as exc:
            raise refusal(exc) from None
        except MessageRejected as exc:
            raise HTTPException(409, detail=str(exc)) from None
        if turn is None:
            raise HTTPException(404, detail="No such conversation, or no message to edit.")
        return await answer(request, user, turn)

    return router


def _wants_stream(request: Request) -> bool:
    return EVENT_STREAM in request.headers.get("accept", "")


def _reply(turn: Turn, update: ReplyUpdate) -> StoredMessage:
    """The stored reply as the last update left it (the service wrote exactly this)."""
    return StoredMessage(
        id=turn.reply_id,
        role="assistant",
        content=update.text,
        complete=update.done and update.error is None,
        error=update.error,
        created_at=turn.user_message.created_at,
    )


def _event(name: str, data: object) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def _events(
    service: ChatService, user: User, turn: Turn, session: Session | None
) -> AsyncIterator[str]:
    """The reply as server-sent events; closing this generator stops and keeps the reply.

    While it streams, the ``session`` is checked every :data:`LIVENESS_INTERVAL` seconds: a
    session that ended stops the reply (kept, marked incomplete) with an ``error`` event.
    """
    asked = message_out(turn.user_message, turn.listed.get(turn.user_message.id, ()))
    first = {"id": turn.conversation.id, "message": asked}
    yield _event("conversation", _json(first))
    sent = ""
    checked = time.monotonic()
    async with contextlib.aclosing(service.reply(user, turn)) as updates:
        async for update in updates:
            if session is not None and time.monotonic() - checked > LIVENESS_INTERVAL:
                checked = time.monotonic()
                if not await anyio.to_thread.run_sync(session.live):
                    yield _event("error", {"detail": SESSION_ENDED})
                    return  # leaving the block closes the reply: its text is kept
            if len(update.text) > len(sent):
                yield _event("token", {"text": update.text[len(sent) :]})
                sent = update.text
            if update.done:
                yield _event("message", message_out(_reply(turn, update)).model_dump(mode="json"))


def _json(value: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v.model_dump(mode="json") if isinstance(v, BaseModel) else v for k, v in value.items()
    }
