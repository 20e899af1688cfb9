"""The chat page's tools around a conversation: ratings, model and instructions, search,
attachments and share links.

Methods of :class:`FeatureHandlers`, which :mod:`.page` attaches to their events next to the
turn's (:mod:`.handlers`). Like those, they act for the signed-in user (``ctx: Context``) on
the conversation the page's server-side state names, never one the browser names.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import anyio
import gradio as gr

# Imported at run time, not for type checking only: the portal resolves the handlers'
# annotations to find the Context parameter it fills in (and Gradio reads them too).
from gradio_portal import Context, MessageRejected
from gradio_portal.chat.markdown import markdown_text
from gradio_portal.chat.service import ChatService
from gradio_portal.chat.sharing import SHARED_PATH, ShareLinks
from gradio_portal.chat.ui.handlers import ChatHandlers, role_of
from gradio_portal.chat.ui.layout import ChatLayout
from gradio_portal.chat.ui.state import SIDEBAR_LIMIT, PendingReply

__all__ = ["SHARED_NOTE", "FeatureHandlers"]

SHARED_NOTE = (
    "**Shared.** Anyone signed in who has the link reads this conversation as it was when "
    "you shared it. Share again for a link with the latest messages (the old link stops "
    "working)."
)


class FeatureHandlers:
    """The event functions of a chat page's tools; ``chat`` holds its turn's handlers.

    ``shares`` makes share links (None: the page has no Share button).
    """

    def __init__(self, chat: ChatHandlers, *, shares: ShareLinks | None = None) -> None:
        self.chat = chat
        self.service: ChatService = chat.service
        self.layout: ChatLayout = chat.layout
        self.shares = shares

    # -- feedback ------------------------------------------------------------------------------

    async def rate(
        self,
        shown: list[dict[str, Any]] | None,
        conversation_id: int | None,
        like: gr.LikeData,
        ctx: Context,
    ) -> dict[Any, Any]:
        """A thumbs up or down on a reply; then the comment box for it."""
        ui = self.layout
        shown = shown or []
        index = like.index if isinstance(like.index, int) else -1
        opened = await self.service.open(ctx.user, conversation_id) if conversation_id else None
        # The chatbot and the stored messages end with the same message: count from the end.
        back = len(shown) - index
        if opened is None or not 0 <= index < len(shown) or not 0 < back <= len(opened.messages):
            raise gr.Error("This reply cannot be rated: reload the page.", print_exception=False)
        target = opened.messages[-back]
        if target.role != "assistant" or role_of(shown[index]) != "assistant":
            raise gr.Error("Only replies can be rated.", print_exception=False)
        rating = 1 if like.liked is True else -1 if like.liked is False else None
        rated = await self.service.rate(ctx.user, conversation_id or 0, target.id, rating)
        if rated is None:
            raise gr.Error("This reply no longer exists.", print_exception=False)
        return {ui.feedback_row: gr.update(visible=True), ui.rated: (target.id, rating)}

    async def comment(
        self,
        text: str | None,
        rated: tuple[int, int | None] | None,
        conversation_id: int | None,
        ctx: Context,
    ) -> dict[Any, Any]:
        """The comment on the reply just rated, stored with its rating."""
        ui = self.layout
        if rated is not None and conversation_id is not None and (text or "").strip():
            message_id, rating = rated
            try:
                await self.service.rate(ctx.user, conversation_id, message_id, rating, text)
            except MessageRejected as exc:
                raise gr.Error(str(exc), print_exception=False) from None
            gr.Info("Thank you for the feedback.")
        return {ui.feedback_row: gr.update(visible=False), ui.feedback_comment: ""}

    # -- model and instructions ----------------------------------------------------------------

    async def model_choices(self) -> Any:
        return await self._model_view(None)

    async def _model_view(self, chosen: str | None) -> Any:
        """The model dropdown: the models offered (listed once), showing the one a
        conversation uses: its own, else the default, else the first offered."""
        models = await self.service.models()
        default = self.service.default_model
        if not chosen:
            chosen = default if default in models or not models else models[0]
        return gr.update(choices=list(models), value=chosen, visible=bool(models))

    async def conversation_options(
        self, conversation_id: int | None, ctx: Context
    ) -> dict[Any, Any]:
        """The open conversation's model, system prompt and whether it is shared."""
        ui = self.layout
        info = await self.service.get(ctx.user, conversation_id) if conversation_id else None
        shared = None
        if info is not None and self.shares is not None:
            shares = self.shares
            shared = await anyio.to_thread.run_sync(lambda: shares.shared(ctx.user.id, info.id))
        return {
            ui.model: await self._model_view(info.model if info else None),
            ui.system_prompt: (info.system_prompt if info else None) or "",
            ui.share_row: gr.update(visible=shared is not None),
            ui.share_note: SHARED_NOTE if shared is not None else "",
            ui.share: gr.update(visible=self.shares is not None),
        }

    async def choose_model(
        self,
        model: str | None,
        conversation_id: int | None,
        pending: PendingReply | None,
        ctx: Context,
    ) -> PendingReply:
        pending = pending or PendingReply()
        try:
            if conversation_id is None:
                pending.model = await self.service.check_model(model)
            elif await self.service.configure(ctx.user, conversation_id, model=model) is None:
                raise gr.Error("This conversation no longer exists.", print_exception=False)
        except MessageRejected as exc:
            raise gr.Error(str(exc), title="Model not changed", print_exception=False) from None
        return pending

    async def save_instructions(
        self,
        text: str | None,
        conversation_id: int | None,
        pending: PendingReply | None,
        ctx: Context,
    ) -> PendingReply:
        pending = pending or PendingReply()
        try:
            if conversation_id is None:
                pending.system_prompt = self.service.clean_system_prompt(text)
            else:
                saved = await self.service.configure(
                    ctx.user, conversation_id, system_prompt=text or None
                )
                if saved is None:
                    raise gr.Error("This conversation no longer exists.", print_exception=False)
        except MessageRejected as exc:
            raise gr.Error(str(exc), title="Not saved", print_exception=False) from None
        gr.Info("Saved: the next replies follow these instructions.")
        return pending

    # -- search --------------------------------------------------------------------------------

    async def search(
        self, text: str | None, conversation_id: int | None, ctx: Context
    ) -> dict[Any, Any]:
        """The sidebar lists the conversations matching ``text`` (all of them when empty)."""
        ui = self.layout
        query = (text or "").strip()
        if not query:
            page = await self.service.conversations(ctx.user, limit=SIDEBAR_LIMIT)
            return self.chat.sidebar(page, conversation_id)
        found = await self.service.search(ctx.user, query, limit=SIDEBAR_LIMIT)
        listed = self.chat.sidebar(found, conversation_id)
        note = (
            "No conversation matches."
            if not found.total
            else f"{found.total} conversation{'s' if found.total != 1 else ''} found"
            + (f"; the first {len(found.items)} listed." if found.total > len(found.items) else ".")
        )
        listed[ui.sidebar_note] = gr.update(value=note, visible=True)
        return listed

    # -- attachments ---------------------------------------------------------------------------

    async def attach(
        self, paths: list[str] | None, pending: PendingReply | None, ctx: Context
    ) -> dict[Any, Any]:
        """Files chosen with "Attach files": stored at once, sent with the next message."""
        store = self.service.attachments
        if store is None:
            raise gr.Error("This chat does not take attachments.", print_exception=False)
        pending = pending or PendingReply()
        refused: list[str] = []
        for path in paths or []:
            name = Path(path).name
            if len(pending.attachments) >= store.max_files:
                refused.append(
                    f"{name} was not attached: a message takes at most {store.max_files} files."
                )
                continue
            data = await anyio.to_thread.run_sync(_read_at_most, path, store.max_bytes + 1)
            try:
                if len(data) > store.max_bytes:
                    raise store.too_large(name, os.path.getsize(path))
                info = await anyio.to_thread.run_sync(store.add, ctx.user.id, name, data)
            except MessageRejected as exc:
                refused.append(str(exc))
                continue
            pending.attachments.append((info.id, info.filename))
        if refused and not pending.attachments:
            raise gr.Error("\n\n".join(refused), title="Not attached", print_exception=False)
        for reason in refused:
            gr.Warning(reason)
        return {**self._attached_view(pending), self.layout.pending_reply: pending}

    async def detach(self, pending: PendingReply | None, ctx: Context) -> dict[Any, Any]:
        """ "Remove": the files attached to the next message are deleted, not sent."""
        store = self.service.attachments
        pending = pending or PendingReply()
        if store is not None:
            for attachment_id, _ in pending.attachments:
                await anyio.to_thread.run_sync(store.delete, ctx.user.id, attachment_id)
        pending.attachments = []
        return {**self._attached_view(pending), self.layout.pending_reply: pending}

    def attachments_sent(self, pending: PendingReply | None) -> dict[Any, Any]:
        return self._attached_view(pending or PendingReply())

    def _attached_view(self, pending: PendingReply) -> dict[Any, Any]:
        ui = self.layout
        names = ", ".join(markdown_text(name) for _, name in pending.attachments)
        return {
            ui.attached: gr.update(value=f"Attached: {names}", visible=bool(names)),
            ui.detach: gr.update(visible=bool(names)),
        }

    # -- sharing -------------------------------------------------------------------------------

    async def share(self, conversation_id: int | None, ctx: Context) -> dict[Any, Any]:
        """A new read-only link to the conversation as it is now; the page copies it."""
        ui = self.layout
        shares = self.shares
        if shares is None or conversation_id is None:
            raise gr.Error(
                "Send a message first: there is nothing to share yet.", print_exception=False
            )
        token = await anyio.to_thread.run_sync(lambda: shares.share(ctx.user.id, conversation_id))
        if token is None:
            raise gr.Error("This conversation no longer exists.", print_exception=False)
        url = SHARED_PATH + token
        gr.Info("Link copied. Anyone signed in who has it can read this conversation.")
        return {
            ui.share_row: gr.update(visible=True),
            ui.share_note: f"{SHARED_NOTE}\n\nLink: `{url}`",
            ui.share_url: url,
        }

    async def unshare(self, conversation_id: int | None, ctx: Context) -> dict[Any, Any]:
        ui = self.layout
        shares = self.shares
        if shares is not None and conversation_id is not None:
            await anyio.to_thread.run_sync(lambda: shares.revoke(ctx.user.id, conversation_id))
            gr.Info("The link no longer works.")
        return {ui.share_row: gr.update(visible=False), ui.share_url: "", ui.share_note: ""}


def _read_at_most(path: str, limit: int) -> bytes:
    with open(path, "rb") as file:
        return file.read(limit)
