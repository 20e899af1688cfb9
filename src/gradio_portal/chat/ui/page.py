"""The chat page assembled: its components, its handlers, and the events that join them.

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

The events' API names, queue settings and outputs are part of the page's contract: the browser
tests, the integration tests and the chat benchmark call them by name.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from gradio_portal.chat.service import ChatService
from gradio_portal.chat.sharing import ShareLinks
from gradio_portal.chat.ui.features import FeatureHandlers
from gradio_portal.chat.ui.handlers import ChatHandlers, show
from gradio_portal.chat.ui.layout import ChatLayout, build_layout

__all__ = ["build_chat_blocks"]

# Runs in the browser when the page's conversation changes: the address bar follows without a
# reload. Query-only, so it works under any mount path or proxy prefix.
_FOLLOW_URL = """(query) => {
  const want = query || "";
  if (window.location.search !== want) {
    const url = window.location.pathname + want + window.location.hash;
    window.history.replaceState(window.history.state, "", url);
  }
}"""


# Copies a share link (a path on this site) as a full URL.
_COPY_LINK = """(url) => {
  if (url) {
    navigator.clipboard.writeText(new URL(url, window.location.href).href).catch(() => {});
  }
}"""


def build_chat_blocks(
    service: ChatService,
    *,
    path: str = "/chat",
    login_path: str = "/login",
    shares: ShareLinks | None = None,
) -> gr.Blocks:
    """The chat page for the Blocks mounted at ``path``, answering through ``service``.

    ``login_path`` is where "Sign out" lands; ``shares`` makes share links (no Share button
    without it). Use :func:`~gradio_portal.chat.mount_chat` to mount it; it also raises
    Gradio's concurrency limits, which a Blocks for many users needs.
    """
    blocks = gr.Blocks(title="Chat", fill_height=True, fill_width=True)
    with blocks:
        layout = build_layout(login_path=login_path)
        handlers = ChatHandlers(service, layout, base="/" + path.strip("/"))
        sending = _attach_events(blocks, layout, handlers)
        _attach_features(
            blocks, layout, handlers, FeatureHandlers(handlers, shares=shares), sending
        )
    return blocks


def _attach_events(blocks: gr.Blocks, ui: ChatLayout, handlers: ChatHandlers) -> Any:
    """Register the page's events, in the order the page has always had them; answer the
    ``send`` event (a Gradio dependency, typed loosely: its class is in a private module),
    which the page's later features follow too."""
    # What open_page and send both update: the conversation shown, and the sidebar.
    page_outputs = [
        ui.chatbot,
        ui.conversation,
        ui.page_query,
        ui.bar,
        ui.title,
        ui.export,
        ui.conversations,
        ui.sidebar_note,
        ui.notice,
    ]
    blocks.load(
        handlers.open_page,
        None,
        [*page_outputs, ui.signed_in],
        api_name="open_page",
        show_progress="hidden",
    )
    ui.page_query.change(None, ui.page_query, None, js=_FOLLOW_URL)
    # Two events, so that each streamed update carries the chatbot alone: Gradio rebuilds
    # every output a yielded dict leaves out, on every yield (31x the cost of an update).
    # Storing the message is short, so it skips the queue: one POST instead of a queue
    # join and an event stream, which is most of what a burst of new messages costs.
    starting = ui.message.submit(
        handlers.start_turn,
        [ui.message, ui.conversation, ui.pending_reply],
        [*page_outputs, ui.message, ui.pending_reply],
        api_name="send",
        queue=False,
        show_progress="minimal",
        show_progress_on=[ui.chatbot],
    )
    streaming = starting.success(
        handlers.stream_reply,
        ui.pending_reply,
        ui.chatbot,
        api_name="stream_reply",
        api_visibility="undocumented",
        show_progress="minimal",
        show_progress_on=[ui.chatbot],
    )
    # After completion, failure and stop alike (Gradio runs .then after a cancel too).
    streaming.then(
        handlers.ready_to_send,
        ui.pending_reply,
        ui.message,
        api_visibility="undocumented",
        queue=False,
    )
    ui.message.stop(None, None, None, cancels=[streaming])
    # One function for both events: Gradio's concurrency group is the function's identity,
    # and each access to a method makes a new bound method.
    start_new_chat = handlers.start_new_chat
    ui.new_chat.click(start_new_chat, None, None, api_name="new_chat")
    # The Chatbot's own "Clear" empties the view only: make it mean "start a new chat"
    # rather than leave a page whose conversation is not the one on screen.
    ui.chatbot.clear(start_new_chat, None, None, api_visibility="undocumented")
    ui.conversations.input(
        handlers.open_conversation, ui.conversations, None, api_name="open_conversation"
    )
    gr.on(
        [ui.rename.click, ui.title.submit],
        handlers.rename_conversation,
        [ui.title, ui.conversation],
        [ui.title, ui.conversations, ui.sidebar_note],
        api_name="rename",
    )
    ui.ask_delete.click(
        show(True), None, ui.confirm_row, queue=False, api_visibility="undocumented"
    )
    ui.cancel.click(show(False), None, ui.confirm_row, queue=False, api_visibility="undocumented")
    ui.confirm.click(handlers.delete_conversation, ui.conversation, None, api_name="delete")
    return starting


def _attach_features(
    blocks: gr.Blocks,
    ui: ChatLayout,
    handlers: ChatHandlers,
    tools: FeatureHandlers,
    sending: Any,
) -> None:
    """Search, answering again, ratings, model and instructions, sharing, attachments.

    Registered after the page's first events, so theirs keep their places; none of these
    changes the inputs or outputs of ``send``, ``stream_reply`` or ``open_page``. Events that
    confirm with a toast (``gr.Info``) go through the queue: only its stream carries toasts.
    """
    # What the open conversation uses, once the page knows which it is.
    options = [ui.model, ui.system_prompt, ui.share_row, ui.share_note, ui.share]
    blocks.load(tools.model_choices, None, ui.model, queue=False, show_progress="hidden")
    ui.conversation.change(
        tools.conversation_options,
        ui.conversation,
        options,
        api_name="conversation_options",
        queue=False,
        show_progress="hidden",
    )
    gr.on(
        [ui.search.submit, ui.search.change],
        tools.search,
        [ui.search, ui.conversation],
        [ui.conversations, ui.sidebar_note],
        api_name="search",
        trigger_mode="always_last",
        show_progress="hidden",
    )
    # Regenerate and edit store a new turn, then stream it as a sent message does.
    again_outputs = [ui.chatbot, ui.message, ui.pending_reply]
    regenerating = ui.chatbot.retry(
        handlers.regenerate,
        [ui.conversation, ui.pending_reply],
        again_outputs,
        api_name="regenerate",
    )
    editing = ui.chatbot.edit(
        handlers.edit_last,
        [ui.chatbot, ui.conversation, ui.pending_reply],
        again_outputs,
        api_name="edit",
    )
    for started in (regenerating, editing):
        streaming = started.success(
            handlers.stream_reply,
            ui.pending_reply,
            ui.chatbot,
            api_visibility="undocumented",
            show_progress="minimal",
            show_progress_on=[ui.chatbot],
        )
        streaming.then(
            handlers.ready_to_send,
            ui.pending_reply,
            ui.message,
            api_visibility="undocumented",
            queue=False,
        )
        ui.message.stop(None, None, None, cancels=[streaming])
    ui.chatbot.like(
        tools.rate,
        [ui.chatbot, ui.conversation],
        [ui.feedback_row, ui.rated],
        api_name="rate",
    )
    gr.on(
        [ui.send_feedback.click, ui.feedback_comment.submit],
        tools.comment,
        [ui.feedback_comment, ui.rated, ui.conversation],
        [ui.feedback_row, ui.feedback_comment],
        api_name="comment",
    )
    ui.model.input(
        tools.choose_model,
        [ui.model, ui.conversation, ui.pending_reply],
        ui.pending_reply,
        api_name="choose_model",
    )
    ui.save_options.click(
        tools.save_instructions,
        [ui.system_prompt, ui.conversation, ui.pending_reply],
        ui.pending_reply,
        api_name="save_instructions",
    )
    ui.share.click(
        tools.share,
        ui.conversation,
        [ui.share_row, ui.share_note, ui.share_url],
        api_name="share",
    ).success(None, ui.share_url, None, js=_COPY_LINK)
    ui.copy_share.click(None, ui.share_url, None, js=_COPY_LINK)
    attached = [ui.attached, ui.detach]
    ui.attach.upload(
        tools.attach,
        [ui.attach, ui.pending_reply],
        [*attached, ui.pending_reply],
        api_name="attach",
        show_progress="minimal",
    )
    # A sent message took its files along: the next one starts without.
    sending.success(
        tools.attachments_sent,
        ui.pending_reply,
        attached,
        api_visibility="undocumented",
        queue=False,
    )
    ui.detach.click(
        tools.detach, ui.pending_reply, [*attached, ui.pending_reply], api_name="detach"
    )
    ui.unshare.click(
        tools.unshare,
        ui.conversation,
        [ui.share_row, ui.share_url, ui.share_note],
        api_name="unshare",
    )
