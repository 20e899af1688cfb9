"""Helpers for the chat tests (no tests here): a tab over Gradio's raw protocol, DB snapshots."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import select

from gradio_portal import Portal
from gradio_portal.storage.models import Conversation, Message
from gradio_portal.testing import EventResult, GradioEvents

MOUNT = "/chat"
NAVIGATE = "gradio-portal:navigate:"
PAGE_OUTPUTS = (
    "chatbot",
    "conversation",
    "page_query",
    "bar",
    "title",
    "export",
    "conversations",
    "sidebar_note",
    "notice",
)
OUTPUTS = {
    "open_page": (*PAGE_OUTPUTS, "signed_in"),
    "send": (*PAGE_OUTPUTS, "message", "pending_reply"),
    "rename": ("title", "conversations", "sidebar_note"),
    "regenerate": ("chatbot", "message", "pending_reply"),
}


class ChatTab:
    """One browser tab on the chat page: its events share a session hash, hence its gr.State."""

    def __init__(self, client: httpx.Client, page: str = MOUNT + "/") -> None:
        self.client = client
        self.events = GradioEvents(client, MOUNT, page=page)
        self.session_hash = secrets.token_hex(8)

    def join(self, api_name: str, data: list[Any], event_data: Any = None) -> str:
        # As the browser does; the JSON is ASCII-escaped so that lone surrogates survive.
        query = self.events.page.partition("?")[2]
        body = {
            "data": data,
            "fn_index": self.events.fn_index(api_name),
            "session_hash": self.session_hash,
            "event_data": event_data,
            "trigger_id": None,
        }
        response = self.client.post(
            MOUNT + "/gradio_api/queue/join" + (f"?{query}" if query else ""),
            content=json.dumps(body),
            headers={"content-type": "application/json", "x-gradio-portal-page": self.events.page},
        )
        response.raise_for_status()
        return str(response.json()["event_id"])

    @contextmanager
    def stream(self, *, timeout: float = 30) -> Iterator[Iterator[dict[str, Any]]]:
        """The tab's ``queue/data`` messages; leaving the block closes the connection."""
        with self.client.stream(
            "GET",
            MOUNT + "/gradio_api/queue/data",
            params={"session_hash": self.session_hash},
            timeout=timeout,
        ) as response:
            response.raise_for_status()

            def messages() -> Iterator[dict[str, Any]]:
                for line in response.iter_lines():
                    if line.startswith("data:"):
                        yield json.loads(line[5:])

            yield messages()

    def call(
        self, api_name: str, data: list[Any] | None = None, event_data: Any = None
    ) -> EventResult:
        event_id = self.join(api_name, data or [], event_data)
        result = EventResult()
        with self.stream() as messages:
            for message in messages:
                if message.get("event_id") not in (None, event_id):
                    continue
                result.messages.append(message)
                if message.get("msg") == "process_completed":
                    break
        return result

    def open(self) -> dict[str, Any]:
        return outputs("open_page", self.call("open_page"))

    def send(self, text: str) -> SendResult:
        """A message as the browser sends it: ``send``, then on success ``stream_reply``."""
        # The State inputs (the conversation, the pending reply) are the server's: the server
        # ignores what the client sends.
        start = self.call("send", [text, None, None])
        reply = self.call("stream_reply", [None]) if start.success else None
        return SendResult(start, reply)

    def cancel(self, api_name: str, event_id: str) -> None:
        response = self.client.post(
            MOUNT + "/gradio_api/cancel",
            json={
                "session_hash": self.session_hash,
                "fn_index": self.events.fn_index(api_name),
                "event_id": event_id,
            },
        )
        response.raise_for_status()


class SendResult(EventResult):
    """A sent message: ``send`` (stores it, updates the page), then ``stream_reply``.

    ``output`` is the page update of ``send`` with the chatbot as the reply left it;
    ``generating`` the streamed updates of the reply; ``error`` the first event's that failed.
    """

    def __init__(self, start: EventResult, reply: EventResult | None) -> None:
        super().__init__([*start.messages, *(reply.messages if reply else [])])
        self.start = start
        self.reply = reply

    @property
    def completed(self) -> dict[str, Any]:
        if self.reply is None or not self.start.success:
            return self.start.completed
        return self.reply.completed

    @property
    def output(self) -> list[Any]:
        data = self.start.output
        if self.reply is not None:
            [chatbot] = self.reply.output
            if chatbot is not None:  # None: nothing streamed (a blank message)
                data[OUTPUTS["send"].index("chatbot")] = chatbot
        return data

    @property
    def generating(self) -> list[dict[str, Any]]:
        return self.reply.generating if self.reply else []


def named(api_name: str, data: list[Any]) -> dict[str, Any]:
    """An event's outputs by name. The chatbot, when updated with its thumbs, is its messages,
    and ``feedback_value`` the thumbs (one per reply: "Like", "Dislike" or None)."""
    named = dict(zip(OUTPUTS[api_name], data, strict=True))
    chatbot = named.get("chatbot")
    if isinstance(chatbot, dict) and chatbot.get("__type__") == "update":
        named["feedback_value"] = chatbot.get("feedback_value")
        named["chatbot"] = chatbot.get("value")
    return named


def outputs(api_name: str, result: EventResult) -> dict[str, Any]:
    """The named outputs of a successful event (of a generator: its last update)."""
    return named(api_name, result.output)


def first_update(api_name: str, result: EventResult) -> dict[str, Any]:
    """The named outputs of a generator's first update (sent whole; later ones are diffs).

    Of a sent message: the page update of ``send``, before the reply streams.
    """
    if isinstance(result, SendResult):
        return named(api_name, result.start.output)
    return named(api_name, result.generating[0]["output"]["data"])


def bubbles(chatbot: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(role, text) of each Chatbot message as the browser receives it."""
    shown = []
    for message in chatbot:
        content = message["content"]
        if isinstance(content, list):
            content = "".join(part.get("text", "") for part in content)
        shown.append((message["role"], content))
    return shown


def navigation(result: EventResult) -> dict[str, Any]:
    """The redirect an event asked the browser to follow."""
    error = result.error or ""
    assert error.startswith(NAVIGATE), f"not a navigation: {error!r}"
    target: dict[str, Any] = json.loads(error[len(NAVIGATE) :])
    return target


def snapshot(portal: Portal) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every conversation and message row, to compare before and after."""
    with portal.database.session() as session:
        conversations = [
            (c.id, c.user_id, c.title, c.created_at, c.updated_at)
            for c in session.scalars(select(Conversation).order_by(Conversation.id))
        ]
        messages = [
            (m.id, m.conversation_id, m.role, m.content, m.complete, m.error)
            for m in session.scalars(select(Message).order_by(Message.id))
        ]
    return conversations, messages


def stored_messages(portal: Portal, conversation_id: int) -> list[Message]:
    with portal.database.session() as session:
        return list(
            session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id)
                .order_by(Message.id)
            )
        )


def wait_for(check: Callable[[], Any], *, timeout: float = 10, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
