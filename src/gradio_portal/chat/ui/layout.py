"""The chat page's components and their arrangement, and the CSS that styles them.

Components only: no event is attached here (see :mod:`.page`), so the page reads top to bottom
as the user sees it. The ``elem_id`` of each component is what the CSS below and the browser
tests find it by; keep them stable.
"""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from gradio_portal import logout_button
from gradio_portal.chat.repository import MAX_TITLE_CHARS
from gradio_portal.chat.ui.state import PLACEHOLDER

__all__ = ["CHAT_CSS", "FEEDBACK_OPTIONS", "ChatLayout", "build_layout"]

FEEDBACK_OPTIONS = {1: "Like", -1: "Dislike"}
"""The chatbot's thumbs, by the rating stored for a reply (1 up, -1 down)."""

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
#confirm-delete, #share-row, #feedback-row { align-items: center; padding: 8px 12px;
  border-radius: 8px; background: var(--background-fill-secondary); }
#attached { font-size: var(--text-sm); }
"""


@dataclass(frozen=True, slots=True, eq=False)
class ChatLayout:
    """The components of one chat page that its events read or update."""

    conversation: gr.State
    """The conversation this page writes to (an id, or None for a new chat)."""
    pending_reply: gr.State
    """The turn stored by ``send``, for ``stream_reply`` to answer (a PendingReply)."""
    page_query: gr.Textbox
    """The query string the address bar should show."""
    new_chat: gr.Button
    conversations: gr.Radio
    sidebar_note: gr.Markdown
    signed_in: gr.Markdown
    bar: gr.Row
    title: gr.Textbox
    rename: gr.Button
    export: gr.Button
    ask_delete: gr.Button
    confirm_row: gr.Row
    confirm: gr.Button
    cancel: gr.Button
    notice: gr.Markdown
    chatbot: gr.Chatbot
    message: gr.Textbox
    search: gr.Textbox
    share: gr.Button
    share_row: gr.Row
    share_note: gr.Markdown
    share_url: gr.Textbox
    """The link just made, for the browser to copy (hidden)."""
    copy_share: gr.Button
    unshare: gr.Button
    options: gr.Accordion
    model: gr.Dropdown
    system_prompt: gr.Textbox
    save_options: gr.Button
    feedback_row: gr.Row
    feedback_comment: gr.Textbox
    send_feedback: gr.Button
    rated: gr.State
    """The reply the user just rated and how, for the comment that may follow."""
    attach: gr.UploadButton
    attached: gr.Markdown
    detach: gr.Button


def build_layout(*, login_path: str) -> ChatLayout:
    """Create the page's components inside the current ``gr.Blocks``, in display order.

    ``login_path`` is where "Sign out" lands.
    """
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
        search = gr.Textbox(
            placeholder="Search conversations",
            show_label=False,
            container=False,
            lines=1,
            max_lines=1,
            max_length=200,
            elem_id="search",
        )
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
        share = gr.Button("Share", size="sm", scale=0, min_width=90, elem_id="share")
        ask_delete = gr.Button(
            "Delete", size="sm", variant="stop", scale=0, min_width=90, elem_id="delete"
        )
    with gr.Row(visible=False, elem_id="confirm-delete") as confirm_row:
        gr.Markdown("Delete this conversation and all its messages? This cannot be undone.")
        confirm = gr.Button(
            "Delete", variant="stop", size="sm", scale=0, min_width=90, elem_id="confirm"
        )
        cancel = gr.Button("Cancel", size="sm", scale=0, min_width=90, elem_id="cancel-delete")
    with gr.Row(visible=False, elem_id="share-row") as share_row:
        share_note = gr.Markdown(elem_id="share-note")
        share_url = gr.Textbox(visible="hidden", elem_id="share-url")
        copy_share = gr.Button("Copy link", size="sm", scale=0, min_width=110, elem_id="copy-share")
        unshare = gr.Button(
            "Stop sharing", size="sm", variant="stop", scale=0, min_width=110, elem_id="unshare"
        )
    with gr.Accordion("Model and instructions", open=False, elem_id="options") as options:
        model = gr.Dropdown(label="Model", choices=[], interactive=True, elem_id="model")
        system_prompt = gr.Textbox(
            label="System prompt",
            placeholder="Instructions for the model in this conversation (optional)",
            lines=2,
            max_lines=8,
            elem_id="system-prompt",
        )
        save_options = gr.Button("Save instructions", size="sm", elem_id="save-options")
    notice = gr.Markdown(visible=False, elem_id="notice")
    chatbot = gr.Chatbot(
        show_label=False,
        scale=1,
        height="100%",
        placeholder=PLACEHOLDER,
        buttons=["copy", "copy_all"],
        feedback_options=tuple(FEEDBACK_OPTIONS.values()),
        editable="user",
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
    with gr.Row(visible=False, elem_id="feedback-row") as feedback_row:
        feedback_comment = gr.Textbox(
            placeholder="Thanks! Tell us more about this reply (optional)",
            show_label=False,
            container=False,
            max_length=2000,
            scale=4,
            elem_id="feedback-comment",
        )
        send_feedback = gr.Button("Send", size="sm", scale=0, min_width=90, elem_id="send-feedback")
    rated = gr.State(None)
    with gr.Row(equal_height=True, elem_id="attachments"):
        attach = gr.UploadButton(
            "Attach files",
            file_count="multiple",
            size="sm",
            scale=0,
            min_width=140,
            elem_id="attach",
        )
        attached = gr.Markdown(visible=False, elem_id="attached")
        detach = gr.Button(
            "Remove", size="sm", scale=0, min_width=90, visible=False, elem_id="detach"
        )
    return ChatLayout(
        conversation=conversation,
        pending_reply=pending_reply,
        page_query=page_query,
        new_chat=new_chat,
        conversations=conversations,
        sidebar_note=sidebar_note,
        signed_in=signed_in,
        bar=bar,
        title=title,
        rename=rename,
        export=export,
        ask_delete=ask_delete,
        confirm_row=confirm_row,
        confirm=confirm,
        cancel=cancel,
        notice=notice,
        chatbot=chatbot,
        message=message,
        search=search,
        share=share,
        share_row=share_row,
        share_note=share_note,
        share_url=share_url,
        copy_share=copy_share,
        unshare=unshare,
        options=options,
        model=model,
        system_prompt=system_prompt,
        save_options=save_options,
        feedback_row=feedback_row,
        feedback_comment=feedback_comment,
        send_feedback=send_feedback,
        rated=rated,
        attach=attach,
        attached=attached,
        detach=detach,
    )
