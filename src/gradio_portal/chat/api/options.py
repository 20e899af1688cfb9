"""A conversation's title, model and system prompt; ratings of replies; models; usage."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Path
from pydantic import BaseModel, Field

from gradio_portal import MessageRejected, User
from gradio_portal.chat.api.deps import API_PREFIX, MAX_ID, ApiAuth, ConversationId
from gradio_portal.chat.api.schemas import (
    ConversationOut,
    MessageOut,
    conversation_out,
    message_out,
)
from gradio_portal.chat.service import ChatService

__all__ = ["FeedbackIn", "ModelsOut", "SettingsIn", "UsageOut", "build_options_router"]

MessageId = Annotated[int, Path(ge=1, le=MAX_ID, description="The reply's id.")]
_RATING: dict[str | None, int | None] = {"up": 1, "down": -1, None: None}


class SettingsIn(BaseModel):
    """What to change; a field left out stays as it is, null returns it to the default."""

    title: str | None = Field(default=None, examples=["Lisbon weekend"])
    model: str | None = Field(default=None, description="One of GET /api/models.")
    system_prompt: str | None = Field(default=None, examples=["Answer in French."])


class FeedbackIn(BaseModel):
    """A rating of a reply: "up", "down", or null to clear it, with an optional comment."""

    rating: Literal["up", "down"] | None = Field(examples=["down"])
    comment: str | None = Field(default=None, max_length=2000, examples=["It missed Sintra."])


class ModelsOut(BaseModel):
    """The models a conversation may use; ``default`` is used when a conversation chose none."""

    models: list[str]
    default: str | None


class UsageOut(BaseModel):
    """Messages sent today (UTC), the daily limit (0: none) and when the count resets."""

    today: int
    limit: int
    resets_at: datetime


_MISSING: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such conversation (or not yours)."}
}


def build_options_router(service: ChatService, auth: ApiAuth) -> APIRouter:
    """Conversation settings, feedback, the models on offer and the user's usage."""
    router = APIRouter(tags=["conversations"])

    @router.patch(
        API_PREFIX + "/{conversation_id}",
        response_model=ConversationOut,
        responses={**_MISSING, 400: {"description": "An empty title or a model not offered."}},
        dependencies=[Depends(auth.same_site)],
        summary="Rename a conversation, or choose its model and system prompt",
    )
    async def change_conversation(
        conversation_id: ConversationId,
        changes: Annotated[SettingsIn, Body()],
        user: User = Depends(auth.user),
    ) -> ConversationOut:
        given = changes.model_fields_set
        try:
            info = await service.get(user, conversation_id)
            if info is not None and "title" in given:
                info = await service.rename(user, conversation_id, changes.title or "")
            chosen = {key: getattr(changes, key) for key in ("model", "system_prompt")}
            chosen = {key: value for key, value in chosen.items() if key in given}
            if info is not None and chosen:
                info = await service.configure(user, conversation_id, **chosen)
        except MessageRejected as exc:
            raise HTTPException(400, detail=str(exc)) from None
        if info is None:
            raise HTTPException(404, detail="No such conversation.")
        return conversation_out(info)

    @router.put(
        API_PREFIX + "/{conversation_id}/messages/{message_id}/feedback",
        response_model=MessageOut,
        responses={404: {"description": "No such reply in this conversation (or not yours)."}},
        dependencies=[Depends(auth.same_site)],
        summary="Rate a reply",
    )
    async def rate_reply(
        conversation_id: ConversationId,
        message_id: MessageId,
        feedback: Annotated[FeedbackIn, Body()],
        user: User = Depends(auth.user),
    ) -> MessageOut:
        try:
            rated = await service.rate(
                user, conversation_id, message_id, _RATING[feedback.rating], feedback.comment
            )
        except MessageRejected as exc:
            raise HTTPException(400, detail=str(exc)) from None
        if rated is None:
            raise HTTPException(404, detail="No such reply in this conversation.")
        return message_out(rated)

    @router.get("/api/models", response_model=ModelsOut, summary="The models you may choose")
    async def list_models(_user: User = Depends(auth.user)) -> ModelsOut:
        return ModelsOut(models=list(await service.models()), default=service.default_model)

    @router.get(
        "/api/usage", response_model=UsageOut, summary="Your messages today and the daily limit"
    )
    async def usage(user: User = Depends(auth.user)) -> UsageOut:
        today = await service.usage(user)
        return UsageOut(today=today.today, limit=today.limit, resets_at=today.resets_at)

    return router
