"""The chat page's event functions: open the page, send, stream the reply, stop, rename, delete,
switch conversations.

They are methods of :class:`ChatHandlers`, which holds the service and the page's components
(:mod:`.page` attaches each to its event). Handlers that update several components return a
dict keyed by component, so each names exactly what it changes; handlers that act for the
signed-in user ask for ``ctx: Context``, which the portal fills in. What the page shows comes
from the database through the service, never from the browser.

A docstring on a handler becomes the description of its endpoint in Gradio's API page, so the
handlers explain themselves in comments unless that description is meant.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from typing import Any

import anyio
import gradio as gr

# Imported at run time, not for type checking only: the portal resolves the handlers'
# annotations to find the Context parameter it fills in (and Gradio reads them too).
from gradio_portal import Context, MessageRejected, Redirect, SessionExpired
from gradio_portal.auth.access_tokens import ADMIN_TOKENS_PATH, TOKENS_PATH
from gradio_portal.auth.account import PASSWORD_PATH, SESSIONS_PATH
from gradio_portal.auth.admin import ADMIN_USERS_PATH
from gradio_portal.auth.audit_page import AUDIT_PATH
from gradio_portal.chat.admin_page import CHAT_ADMIN_PATH
from gradio_portal.chat.api.attachments import ATTACHMENTS_PREFIX
from gradio_portal.chat.attachments import AttachmentInfo
from gradio_portal.chat.markdown import markdown_text, notice_for
from gradio_portal.chat.repository import NOT_ANSWERABLE, ConversationPage, StoredMessage
from gradio_portal.chat.service import ChatService, OpenedConversation
from gradio_portal.chat.ui.layout import FEEDBACK_OPTIONS, ChatLayout
from gradio_portal.chat.ui.state import (
    NOT_FOUND,
    SIDEBAR_LIMIT,
    PendingReply,
    parse_conversation_id,
)

__all__ = [
    "ChatHandlers",
    "bubbles",
    "file_line",
    "ratings",
    "reply_bubble",
    "role_of",
    "show",
]

ACCOUNT_LINKS = " · ".join(
    f"[{name}]({path})"
    for name, path in (
        ("Account", SESSIONS_PATH),
        ("Password", PASSWORD_PATH),
        ("Access tokens", TOKENS_PATH),
    )
)
ADMIN_LINKS = " · ".join(
    f"[{name}]({path})"
    for name, path in (
        ("Users", ADMIN_USERS_PATH),
        ("Chat settings", CHAT_ADMIN_PATH),
        ("All tokens", ADMIN_TOKENS_PATH),
        ("Audit", AUDIT_PATH),
    )
)

LIVENESS_INTERVAL = 2.0
"""Seconds between checks, while a reply streams, that its session is still signed in."""


class ChatHandlers:
    """The event functions of one chat page, answering through ``service``.

    ``base`` is the page's own path (``/chat``): switching conversations, "New chat" and
    deleting navigate under it with :class:`~gradio_portal.Redirect`.
    """

    def __init__(
        self,
        service: ChatService,
        layout: ChatLayout,
        *,
        base: str,
    ) -> None:
        self.service = service
        self.layout = layout
        self.base = base

    # -- opening the page ----------------------------------------------------------------------

    # The page URL names the conversation; it is shown only if it is the user's. A missing,
    # foreign or malformed id shows a new chat with the same notice, so nothing tells the
    # cases apart, and the URL is cleaned.
    async def open_page(self, ctx: Context) -> dict[Any, Any]:
        ui, service = self.layout, self.service
        raw = ctx.query.get("c")
        conversation_id = parse_conversation_id(raw)
        opened = await service.open(ctx.user, conversation_id) if conversation_id else None
        page = await service.conversations(ctx.user, limit=SIDEBAR_LIMIT)
        if raw is not None and opened is None:
            note = NOT_FOUND
        elif opened is not None and opened.earlier:
            note = (
                f"Showing the latest {len(opened.messages)} messages; "
                f"{opened.earlier} earlier ones are in the export."
            )
        else:
            note = ""
        return {
            **self._opened_view(opened),
            **self.sidebar(page, opened.conversation.id if opened else None),
            ui.notice: gr.update(value=note, visible=bool(note)),
            ui.signed_in: f"Signed in as **{markdown_text(ctx.user.display_name)}**"
            + f"\n\n{ACCOUNT_LINKS}"
            + (f" · {ADMIN_LINKS}" if ctx.user.is_admin else ""),
        }

    # -- a turn: send, stream, stop ------------------------------------------------------------

    async def start_turn(
        self,
        text: str | None,
        conversation_id: int | None,
        pending: PendingReply | None,
        ctx: Context,
    ) -> dict[Any, Any]:
        """Store the user message and show it: the page's one full update of a turn."""
        ui, service = self.layout, self.service
        pending = pending or PendingReply()
        if pending.busy:
            # A reply is streaming (Enter still submits): ignore, as one event would.
            raise gr.Error("A reply is in progress.", visible=False, print_exception=False)
        try:
            cleaned = service.clean(text or "")
        except MessageRejected as exc:
            return self._not_sent(pending, exc)
        if cleaned is None:
            pending.turn = None
            return {ui.message: "", ui.pending_reply: pending}  # blank: nothing to answer
        if conversation_id is None:
            # This page's gr.State may be in another process (a failover moved its
            # events); the address bar still names the conversation on screen. Only the
            # user's own conversation is ever written to (begin_turn checks).
            conversation_id = parse_conversation_id(ctx.query.get("c"))
        try:
            turn, page = await service.start_listing(
                ctx.user,
                conversation_id,
                cleaned,
                limit=SIDEBAR_LIMIT,
                model=pending.model,
                system_prompt=pending.system_prompt,
                attachments=[attachment_id for attachment_id, _ in pending.attachments],
            )
        except MessageRejected as exc:
            return self._not_sent(pending, exc)
        pending.attachments = []
        shown = bubbles([*turn.recent, turn.user_message], turn.listed)
        opened = OpenedConversation(turn.conversation, (), 0)
        # No await from here on: a cancelled event cannot leave the page marked busy.
        pending.turn, pending.shown, pending.busy = turn, shown, True
        return {
            **self._opened_view(opened),
            **self.sidebar(page, turn.conversation.id),
            ui.chatbot: gr.update(value=shown, feedback_value=ratings(turn.recent)),
            ui.message: gr.update(value="", submit_btn=False, stop_btn=True),
            ui.notice: gr.update(visible=False),
            ui.pending_reply: pending,
        }

    async def stream_reply(
        self, pending: PendingReply | None, ctx: Context
    ) -> AsyncIterator[list[dict[str, str]]]:
        """Stream the reply to the turn start_turn stored: to the chatbot alone."""
        if pending is None:
            # This page's state is in another process: the one that stored the message
            # (its events moved here in between, after a failover). Find the turn in the
            # database instead.
            found = await self.service.unanswered(ctx.user)
            if found is None:
                return
            pending = PendingReply()
            pending.turn = found
            pending.shown = bubbles([*found.recent, found.user_message], found.listed)
        turn, shown = pending.turn, pending.shown
        pending.turn = None  # each turn is answered once
        if turn is None:
            return  # a blank message: no update
        checked = time.monotonic()
        try:
            async with contextlib.aclosing(self.service.reply(ctx.user, turn)) as updates:
                async for update in updates:
                    if time.monotonic() - checked > LIVENESS_INTERVAL:
                        # Signed out elsewhere, or the account was disabled: stop now. Closing
                        # the reply keeps what was written, marked incomplete.
                        checked = time.monotonic()
                        if not await anyio.to_thread.run_sync(ctx.session.live):
                            raise SessionExpired("the session ended while the reply streamed")
                    yield [*shown, reply_bubble(update.text, update.error)]
        finally:
            pending.busy = False

    def _not_sent(self, pending: PendingReply, refused: MessageRejected) -> dict[Any, Any]:
        """A refused message (too long, over the daily limit, a file that cannot go): the
        reason where the page shows notices, and the text left in the box to fix or resend.

        Not a ``gr.Error``: this event skips the queue, and only the queue's stream carries
        error toasts to the page.
        """
        pending.turn = None
        return {
            self.layout.notice: gr.update(value=f"**Message not sent.** {refused}", visible=True),
            self.layout.pending_reply: pending,
        }

    @staticmethod
    def ready_to_send(pending: PendingReply | None) -> Any:
        if pending is not None:
            pending.busy = False  # also after a stop that came before the reply started
        return gr.update(submit_btn=True, stop_btn=False)

    # -- the open conversation -----------------------------------------------------------------

    async def rename_conversation(
        self, new_title: str, conversation_id: int | None, ctx: Context
    ) -> dict[Any, Any]:
        ui = self.layout
        if conversation_id is None:
            return {ui.title: ""}  # a new chat has nothing to rename
        try:
            info = await self.service.rename(ctx.user, conversation_id, new_title or "")
        except MessageRejected as exc:
            raise gr.Error(str(exc), title="Not renamed", print_exception=False) from None
        if info is None:
            raise gr.Error("This conversation no longer exists.", print_exception=False)
        page = await self.service.conversations(ctx.user, limit=SIDEBAR_LIMIT)
        return {ui.title: info.title, **self.sidebar(page, info.id)}

    async def delete_conversation(self, conversation_id: int | None, ctx: Context) -> Redirect:
        if conversation_id is not None:
            await self.service.delete(ctx.user, conversation_id)
        # Replace: back must not return to the page of a deleted conversation.
        return Redirect(f"{self.base}/", replace=True)

    # -- switching conversations ---------------------------------------------------------------

    # Navigation, not an in-place update: a new history entry, so that back returns to the
    # conversation before, and the URL names the conversation on screen.
    def start_new_chat(self) -> Redirect:
        return Redirect(f"{self.base}/")

    def open_conversation(self, choice: str | None) -> Redirect:
        conversation_id = parse_conversation_id(choice)
        base = self.base
        return Redirect(f"{base}/?c={conversation_id}" if conversation_id else f"{base}/")

    # -- answering again: regenerate, edit ---------------------------------------------------

    async def regenerate(
        self, conversation_id: int | None, pending: PendingReply | None, ctx: Context
    ) -> dict[Any, Any]:
        """The chatbot's retry button: answer the last user message again."""
        return await self._again(conversation_id, pending, ctx, edited=None)

    async def edit_last(
        self,
        shown: list[dict[str, Any]] | None,
        conversation_id: int | None,
        pending: PendingReply | None,
        edit: gr.EditData,
        ctx: Context,
    ) -> dict[Any, Any]:
        """An edited user message: only the last one can be edited (and is sent again)."""
        shown = shown or []
        users = [i for i, m in enumerate(shown) if role_of(m) == "user"]
        index = edit.index if isinstance(edit.index, int) else -1
        if not users or index != users[-1]:
            raise gr.Error(NOT_ANSWERABLE, title="Not edited", print_exception=False)
        try:
            text = self.service.clean(str(edit.value or ""))
        except MessageRejected as exc:
            raise gr.Error(str(exc), title="Not edited", print_exception=False) from None
        if text is None:
            raise gr.Error("A message cannot be empty.", title="Not edited", print_exception=False)
        opened = await self.service.open(ctx.user, conversation_id) if conversation_id else None
        asked = [m for m in opened.messages if m.role == "user"] if opened else []
        if not asked:
            raise gr.Error(NOT_ANSWERABLE, title="Not edited", print_exception=False)
        return await self._again(conversation_id, pending, ctx, edited=(asked[-1].id, text))

    async def _again(
        self,
        conversation_id: int | None,
        pending: PendingReply | None,
        ctx: Context,
        *,
        edited: tuple[int, str] | None,
    ) -> dict[Any, Any]:
        ui = self.layout
        pending = pending or PendingReply()
        if pending.busy:
            raise gr.Error("A reply is in progress.", visible=False, print_exception=False)
        if conversation_id is None:
            raise gr.Error("There is nothing to answer yet.", print_exception=False)
        try:
            turn = await self.service.answer_again(ctx.user, conversation_id, edited=edited)
        except MessageRejected as exc:
            raise gr.Error(str(exc), title="Not sent", print_exception=False) from None
        if turn is None:
            raise gr.Error("This conversation no longer exists.", print_exception=False)
        shown = bubbles([*turn.recent, turn.user_message], turn.listed)
        pending.turn, pending.shown, pending.busy = turn, shown, True
        return {
            # The reply answered again starts unrated; the thumbs follow what is stored.
            ui.chatbot: gr.update(value=shown, feedback_value=ratings(turn.recent)),
            ui.message: gr.update(submit_btn=False, stop_btn=True),
            ui.pending_reply: pending,
        }

    # -- what the page shows -------------------------------------------------------------------

    def sidebar(self, page: ConversationPage, current: int | None) -> dict[Any, Any]:
        """The conversation list with ``current`` selected, and the note on those not listed."""
        ui = self.layout
        choices = [(info.title, str(info.id)) for info in page.items]
        selected = str(current) if current is not None else None
        hidden = page.total - len(page.items)
        return {
            ui.conversations: gr.update(
                choices=choices,
                value=selected if any(value == selected for _, value in choices) else None,
            ),
            ui.sidebar_note: gr.update(
                value=f"{hidden} older conversation{'s' if hidden != 1 else ''} not listed.",
                visible=hidden > 0,
            ),
        }

    def _opened_view(self, opened: OpenedConversation | None) -> dict[Any, Any]:
        """The page showing ``opened`` (None: a new chat), its id in the state and the URL."""
        ui = self.layout
        if opened is None:
            return {
                ui.chatbot: gr.update(value=[], feedback_value=[]),
                ui.conversation: None,
                ui.page_query: "",
                ui.bar: gr.update(visible=False),
                ui.title: "",
            }
        info = opened.conversation
        return {
            ui.chatbot: gr.update(
                value=bubbles(opened.messages, opened.files),
                feedback_value=ratings(opened.messages),
            ),
            ui.conversation: info.id,
            ui.page_query: f"?c={info.id}",
            ui.bar: gr.update(visible=True),
            ui.title: info.title,
            ui.export: gr.update(link=f"/api/conversations/{info.id}/export.md"),
        }


def show(visible: bool) -> Callable[[], Any]:
    """An event function that shows (or hides) its one output: the delete confirmation."""
    return lambda: gr.update(visible=visible)


def bubbles(
    messages: Iterable[StoredMessage], files: Mapping[int, Sequence[AttachmentInfo]] | None = None
) -> list[dict[str, str]]:
    """Stored messages as Chatbot messages; incomplete replies say why they stopped.

    A user message lists its attached ``files`` (by message id) as links to their download
    (images shown too), which only their owner can open.
    """
    shown = []
    files = files or {}
    for stored in messages:
        if stored.role == "user":
            content = stored.content
            if files.get(stored.id):
                content += "\n\n" + "\n".join(file_line(info) for info in files[stored.id])
            shown.append({"role": "user", "content": content})
        else:
            shown.append(reply_bubble(stored.content, notice_for(stored)))
    return shown


def ratings(messages: Iterable[StoredMessage]) -> list[str | None]:
    """The chatbot's thumbs for stored messages: one entry per reply, in order (the chatbot's
    ``feedback_value``), naming its feedback option."""
    return [
        FEEDBACK_OPTIONS.get(stored.feedback) if stored.feedback is not None else None
        for stored in messages
        if stored.role == "assistant"
    ]


def file_line(info: AttachmentInfo) -> str:
    """One attached file in a message: its name linked to its download (an image also shown)."""
    url = f"{ATTACHMENTS_PREFIX}/{info.id}"
    name = markdown_text(info.filename)
    link = f"📎 [{name}]({url})"
    return f"![{name}]({url})\n{link}" if info.kind == "image" else link


def role_of(message: object) -> str | None:
    """The role of a Chatbot message as the page sent it back."""
    role = message.get("role") if isinstance(message, dict) else getattr(message, "role", None)
    return role if isinstance(role, str) else None


def reply_bubble(text: str, notice: str | None) -> dict[str, str]:
    """A reply as a Chatbot message, with the notice of why it is incomplete, if any."""
    if notice:
        text = f"{text}\n\n> ⚠️ {notice}" if text else f"> ⚠️ {notice}"
    return {"role": "assistant", "content": text}
