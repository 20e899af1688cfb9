"""The chat page: a user's conversations in a sidebar, the open one, streamed replies and stop.

Where the truth lives:

- The page URL names the conversation (``/chat/?c=42``). The load event reads it, and shows the
  conversation only if it is the signed-in user's; a missing, foreign or malformed id shows a
  new chat with a notice and cleans the URL, so nothing tells the two cases apart.
- The conversation the page writes to is kept in a ``gr.State``, which lives on the server
  (per page load) and cannot be set by the browser. The first message of a new chat creates the
  conversation and sets it; the URL then becomes ``?c=<id>`` in place (``history.replaceState``,
  no reload), so the reply keeps streaming and reload, bookmarks and back all return to it.
  When the state is not there (a failover moved the page's events to another process), the
  ``?c=`` of the address bar names the conversation instead, still only if it is the user's.
- Messages shown and sent to the model come from the database, never from the browser.

Switching conversations and "New chat" navigate with :class:`~gradio_portal.Redirect` (a new
history entry); deleting replaces the entry of the deleted conversation.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable
from typing import Any, cast

import gradio as gr

from gradio_portal.chat.markdown import markdown_text, notice_for
from gradio_portal.chat.repository import (
    MAX_TITLE_CHARS,
    ConversationPage,
    StoredMessage,
    Turn,
)
from gradio_portal.chat.service import ChatService, MessageRejected, OpenedConversation
from gradio_portal.components import logout_button
from gradio_portal.context import Context
from gradio_portal.navigation import Redirect

__all__ = ["CHAT_CSS", "SIDEBAR_LIMIT", "build_chat_blocks", "parse_conversation_id"]

SIDEBAR_LIMIT = 50
"""Conversations listed in the sidebar; the API lists them all."""

NOT_FOUND = "That conversation does not exist, or it is not yours. Here is a new chat instead."
PLACEHOLDER = "### How can I help?\nYour conversations are saved: find them in the sidebar."

# Runs in the browser when the page's conversation changes: the address bar follows without a
# reload. Query-only, so it works under any mount path or proxy prefix.
_FOLLOW_URL = """(query) => {
  const want = query || "";
  if (window.location.search !== want) {
    const url = window.location.pathname + want + window.location.hash;
    window.history.replaceState(window.history.state, "", url);
  }
}"""

# The portal fills Context parameters in; a default tells Gradio they take no input (without
# one, it warns about a missing argument at registration).
INJECTED = cast(Context, None)

CHAT_CSS = """
#conversation-list .wrap { flex-direction: column; gap: 2px; }
#conversation-list label {
  width: 100%; margin: 0; padding: 7px 10px; border: none; border-radius: 8px;
  background: transparent; box-shadow: none; cursor: pointer;
}
#conversation-list label span { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
#conversation-list label:hover { background: var(--background-fill-secondary); }
#conversation-list label.selected { background: var(--color-accent-soft); font-weight: 600; }
#conversation-list input[type="radio"] { display: none; }
#sidebar-note, #signed-in { font-size: var(--text-sm); color: var(--body-text-color-subdued); }
#conversation-bar { align-items: center; }
#confirm-delete { align-items: center; padding: 8px 12px; border-radius: 8px;
  background: var(--background-fill-secondary); }
"""


def parse_conversation_id(raw: object) -> int | None:
    """A conversation id from the URL or a widget; None for anything but 1-18 ASCII digits."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw if 0 < raw < 2**63 else None
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 18:
        return int(raw) or None
    return None


def build_chat_blocks(
    service: ChatService, *, path: str = "/chat", login_path: str = "/login"
) -> gr.Blocks:
    """The chat page for the Blocks mounted at ``path``, answering through ``service``.

    ``login_path`` is where "Sign out" lands. Use :func:`~gradio_portal.chat.mount_chat` to
    mount it; it also raises Gradio's concurrency limits, which a Blocks for many users needs.
    """
    base = "/" + path.strip("/")
    blocks = gr.Blocks(title="Chat", fill_height=True, fill_width=True)
    with blocks:
        # The conversation this page writes to: server-side, per page load.
        conversation = gr.State(None)
        # The turn stored by start_turn, for stream_reply to answer: server-side, per page
        # load, made by the page's first message (a callable value would add a load event).
        pending_reply = gr.State(None)
        # The query string the address bar should show. In the DOM but not shown: the browser
        # runs .change only for rendered components. It starts as a value no page load sets,
        # so that "" (a new chat) also fires, and drops a foreign or malformed ?c= from view.
        page_query = gr.Textbox(value="-", visible="hidden", elem_id="page-query")

        with gr.Sidebar(elem_id="chat-sidebar"):
            new_chat = gr.Button("+ New chat", variant="primary", elem_id="new-chat")
            conversations = gr.Radio(
                choices=[], show_label=False, container=False, elem_id="conversation-list"
            )
            sidebar_note = gr.Markdown(visible=False, elem_id="sidebar-note")
            signed_in = gr.Markdown(elem_id="signed-in")
            # One click, no confirmation page: the event is a same-site JSON POST.
            logout_button("Sign out", login_path=login_path, size="sm", elem_id="sign-out")

        with gr.Row(visible=False, equal_height=True, elem_id="conversation-bar") as bar:
            title = gr.Textbox(
                show_label=False,
                container=False,
                lines=1,
                max_lines=1,
                max_length=MAX_TITLE_CHARS,
                scale=4,
                elem_id="conversation-title",
            )
            rename = gr.Button("Rename", size="sm", scale=0, min_width=90, elem_id="rename")
            export = gr.Button("Export", size="sm", scale=0, min_width=90, elem_id="export")
            ask_delete = gr.Button(
                "Delete", size="sm", variant="stop", scale=0, min_width=90, elem_id="delete"
            )
        with gr.Row(visible=False, elem_id="confirm-delete") as confirm_row:
            gr.Markdown("Delete this conversation and all its messages? This cannot be undone.")
            confirm = gr.Button(
                "Delete", variant="stop", size="sm", scale=0, min_width=90, elem_id="confirm"
            )
            cancel = gr.Button("Cancel", size="sm", scale=0, min_width=90, elem_id="cancel-delete")
        notice = gr.Markdown(visible=False, elem_id="notice")
        chatbot = gr.Chatbot(
            show_label=False,
            scale=1,
            height="100%",
            placeholder=PLACEHOLDER,
            buttons=["copy", "copy_all"],
            feedback_options=None,
            sanitize_html=True,  # the default, spelled out: messages are untrusted text
            elem_id="chat",
        )
        message = gr.Textbox(
            placeholder="Message",
            show_label=False,
            lines=1,
            max_lines=10,
            submit_btn=True,
            stop_btn=False,
            autofocus=True,
            elem_id="message",
        )

        def sidebar(page: ConversationPage, current: int | None) -> dict[Any, Any]:
            choices = [(info.title, str(info.id)) for info in page.items]
            selected = str(current) if current is not None else None
            hidden = page.total - len(page.items)
            return {
                conversations: gr.update(
                    choices=choices,
                    value=selected if any(value == selected for _, value in choices) else None,
                ),
                sidebar_note: gr.update(
                    value=f"{hidden} older conversation{'s' if hidden != 1 else ''} not listed.",
                    visible=hidden > 0,
                ),
            }

        def opened_view(opened: OpenedConversation | None) -> dict[Any, Any]:
            if opened is None:
                return {
                    chatbot: [],
                    conversation: None,
                    page_query: "",
                    bar: gr.update(visible=False),
                    title: "",
                }
            info = opened.conversation
            return {
                chatbot: bubbles(opened.messages),
                conversation: info.id,
                page_query: f"?c={info.id}",
                bar: gr.update(visible=True),
                title: info.title,
                export: gr.update(link=f"/api/conversations/{info.id}/export.md"),
            }

        async def open_page(ctx: Context = INJECTED) -> dict[Any, Any]:
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
                **opened_view(opened),
                **sidebar(page, opened.conversation.id if opened else None),
                notice: gr.update(value=note, visible=bool(note)),
                signed_in: f"Signed in as **{markdown_text(ctx.user.display_name)}**",
            }

        async def start_turn(
            text: str | None,
            conversation_id: int | None,
            pending: PendingReply | None,
            ctx: Context = INJECTED,
        ) -> dict[Any, Any]:
            """Store the user message and show it: the page's one full update of a turn."""
            pending = pending or PendingReply()
            if pending.busy:
                # A reply is streaming (Enter still submits): ignore, as one event would.
                raise gr.Error("A reply is in progress.", visible=False, print_exception=False)
            try:
                cleaned = service.clean(text or "")
            except MessageRejected as exc:
                raise gr.Error(str(exc), title="Message not sent", print_exception=False) from None
            if cleaned is None:
                pending.turn = None
                return {message: "", pending_reply: pending}  # blank: nothing to answer
            if conversation_id is None:
                # This page's gr.State may be in another process (a failover moved its
                # events); the address bar still names the conversation on screen. Only the
                # user's own conversation is ever written to (begin_turn checks).
                conversation_id = parse_conversation_id(ctx.query.get("c"))
            turn, page = await service.start_listing(
                ctx.user, conversation_id, cleaned, limit=SIDEBAR_LIMIT
            )
            shown = [*bubbles(turn.recent), *bubbles([turn.user_message])]
            opened = OpenedConversation(turn.conversation, (), 0)
            # No await from here on: a cancelled event cannot leave the page marked busy.
            pending.turn, pending.shown, pending.busy = turn, shown, True
            return {
                **opened_view(opened),
                **sidebar(page, turn.conversation.id),
                chatbot: shown,
                message: gr.update(value="", submit_btn=False, stop_btn=True),
                notice: gr.update(visible=False),
                pending_reply: pending,
            }

        async def stream_reply(
            pending: PendingReply | None, ctx: Context = INJECTED
        ) -> AsyncIterator[list[dict[str, str]]]:
            """Stream the reply to the turn start_turn stored: to the chatbot alone."""
            if pending is None:
                # This page's state is in another process: the one that stored the message
                # (its events moved here in between, after a failover). Find the turn in the
                # database instead.
                found = await service.unanswered(ctx.user)
                if found is None:
                    return
                pending = PendingReply()
                pending.turn = found
                pending.shown = [*bubbles(found.recent), *bubbles([found.user_message])]
            turn, shown = pending.turn, pending.shown
            pending.turn = None  # each turn is answered once
            if turn is None:
                return  # a blank message: no update
            try:
                async with contextlib.aclosing(service.reply(ctx.user, turn)) as updates:
                    async for update in updates:
                        yield [*shown, reply_bubble(update.text, update.error)]
            finally:
                pending.busy = False

        async def rename_conversation(
            new_title: str, conversation_id: int | None, ctx: Context = INJECTED
        ) -> dict[Any, Any]:
            if conversation_id is None:
                return {title: ""}  # a new chat has nothing to rename
            try:
                info = await service.rename(ctx.user, conversation_id, new_title or "")
            except MessageRejected as exc:
                raise gr.Error(str(exc), title="Not renamed", print_exception=False) from None
            if info is None:
                raise gr.Error("This conversation no longer exists.", print_exception=False)
            page = await service.conversations(ctx.user, limit=SIDEBAR_LIMIT)
            return {title: info.title, **sidebar(page, info.id)}

        async def delete_conversation(
            conversation_id: int | None, ctx: Context = INJECTED
        ) -> Redirect:
            if conversation_id is not None:
                await service.delete(ctx.user, conversation_id)
            # Replace: back must not return to the page of a deleted conversation.
            return Redirect(f"{base}/", replace=True)

        def start_new_chat() -> Redirect:
            return Redirect(f"{base}/")

        def open_conversation(choice: str | None) -> Redirect:
            conversation_id = parse_conversation_id(choice)
            return Redirect(f"{base}/?c={conversation_id}" if conversation_id else f"{base}/")

        def ready_to_send(pending: PendingReply | None) -> Any:
            if pending is not None:
                pending.busy = False  # also after a stop that came before the reply started
            return gr.update(submit_btn=True, stop_btn=False)

        def show(visible: bool) -> Any:
            return lambda: gr.update(visible=visible)

        page_outputs = [
            chatbot,
            conversation,
            page_query,
            bar,
            title,
            export,
            conversations,
            sidebar_note,
            notice,
        ]
        blocks.load(
            open_page,
            None,
            [*page_outputs, signed_in],
            api_name="open_page",
            show_progress="hidden",
        )
        page_query.change(None, page_query, None, js=_FOLLOW_URL)
        # Two events, so that each streamed update carries the chatbot alone: Gradio rebuilds
        # every output a yielded dict leaves out, on every yield (31x the cost of an update).
        # Storing the message is short, so it skips the queue: one POST instead of a queue
        # join and an event stream, which is most of what a burst of new messages costs.
        starting = message.submit(
            start_turn,
            [message, conversation, pending_reply],
            [*page_outputs, message, pending_reply],
            api_name="send",
            queue=False,
            show_progress="minimal",
            show_progress_on=[chatbot],
        )
        streaming = starting.success(
            stream_reply,
            pending_reply,
            chatbot,
            api_name="stream_reply",
            api_visibility="undocumented",
            show_progress="minimal",
            show_progress_on=[chatbot],
        )
        # After completion, failure and stop alike (Gradio runs .then after a cancel too).
        streaming.then(
            ready_to_send, pending_reply, message, api_visibility="undocumented", queue=False
        )
        message.stop(None, None, None, cancels=[streaming])
        new_chat.click(start_new_chat, None, None, api_name="new_chat")
        # The Chatbot's own "Clear" empties the view only: make it mean "start a new chat"
        # rather than leave a page whose conversation is not the one on screen.
        chatbot.clear(start_new_chat, None, None, api_visibility="undocumented")
        conversations.input(open_conversation, conversations, None, api_name="open_conversation")
        gr.on(
            [rename.click, title.submit],
            rename_conversation,
            [title, conversation],
            [title, conversations, sidebar_note],
            api_name="rename",
        )
        ask_delete.click(show(True), None, confirm_row, queue=False, api_visibility="undocumented")
        cancel.click(show(False), None, confirm_row, queue=False, api_visibility="undocumented")
        confirm.click(delete_conversation, conversation, None, api_name="delete")
    return blocks


class PendingReply:
    """A page's turn between storing the user message and streaming the reply to it.

    Mutable and shared by reference: Gradio hands a gr.State's own object to every event of
    the page, so ``busy`` (set once a turn is stored, cleared when its reply ends) is seen by
    the next submit while the reply streams.
    """

    __slots__ = ("busy", "shown", "turn")

    def __init__(self) -> None:
        self.turn: Turn | None = None
        self.shown: list[dict[str, str]] = []
        self.busy = False


def bubbles(messages: Iterable[StoredMessage]) -> list[dict[str, str]]:
    """Stored messages as Chatbot messages; incomplete replies say why they stopped."""
    shown = []
    for stored in messages:
        if stored.role == "user":
            shown.append({"role": "user", "content": stored.content})
        else:
            shown.append(reply_bubble(stored.content, notice_for(stored)))
    return shown


def reply_bubble(text: str, notice: str | None) -> dict[str, str]:
    if notice:
        text = f"{text}\n\n> ⚠️ {notice}" if text else f"> ⚠️ {notice}"
    return {"role": "assistant", "content": text}
