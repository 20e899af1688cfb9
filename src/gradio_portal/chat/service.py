"""The chat's rules, apart from any UI: what a message may be, and how a reply is kept.

A turn is stored before the model is asked: the user message and an empty, incomplete reply row
(:meth:`ChatService.start`). While replies stream, their texts so far are written together about
once a ``save_interval``, so a process that dies mid-reply loses at most that much; at the end
each reply is written whole and marked complete. A reply cut off by the user (the generator is
closed or its task cancelled), by a :class:`~gradio_portal.BackendError` or by any
other failure keeps its text, stays incomplete and gets a readable ``error``.

Database work runs in worker threads (behind a limiter of its own), so a slow database never
stalls the event loop that streams every other user's replies. With the portal's metrics, each
finished turn is counted by outcome, with the pieces of text (tokens) the backend streamed.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
import unicodedata
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

import anyio
import anyio.to_thread
from sqlalchemy.exc import SQLAlchemyError

from gradio_portal import (
    BackendError,
    ConfigurationError,
    MessageRejected,
    PortalError,
    PortalSettings,
    User,
)
from gradio_portal.chat.backends import ChatBackend, ChatMessage, ChatRequest
from gradio_portal.chat.coalesce import coalesce
from gradio_portal.chat.repository import (
    MAX_TITLE_CHARS,
    ConversationInfo,
    ConversationPage,
    ConversationRepository,
    StoredMessage,
    Turn,
)
from gradio_portal.observability import PortalMetrics
from gradio_portal.observability.metrics import ChatOutcome
from gradio_portal.storage.models import utcnow

__all__ = [
    "STOPPED",
    "UNEXPECTED",
    "ChatService",
    "MessageRejected",
    "OpenedConversation",
    "ReplyUpdate",
    "clean_message",
    "title_from",
]

log = logging.getLogger("gradio_portal.chat")
T = TypeVar("T")

STOPPED = "Stopped before the reply was complete."
UNEXPECTED = (
    "The reply failed because of an unexpected error on the server. Try again; if it keeps "
    "happening, tell the administrator."
)
TITLE_CHARS = 60
"""Titles made from a first message are cut to this many characters (renames may be longer)."""

# Lone surrogates arrive through JSON escapes ("\ud800") and cannot be encoded as UTF-8.
_SURROGATES = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class ReplyUpdate:
    """The reply so far (cumulative text); ``done`` on the last update, with ``error`` if any."""

    text: str
    done: bool = False
    error: str | None = None


@dataclass(frozen=True, slots=True)
class OpenedConversation:
    """A conversation with its latest messages, as a page shows it."""

    conversation: ConversationInfo
    messages: tuple[StoredMessage, ...]
    earlier: int


def clean_message(raw: str, *, max_chars: int) -> str | None:
    """The message to store, or None when there is nothing to send.

    NUL is removed (PostgreSQL cannot store it) and lone surrogates become U+FFFD; every other
    character, control characters included, is kept as typed. Raises :class:`MessageRejected`
    for a message longer than ``max_chars``.
    """
    text = _SURROGATES.sub("\ufffd", raw.replace("\x00", ""))
    if not text.strip():
        return None
    if len(text) > max_chars:
        raise MessageRejected(
            f"Your message is {len(text):,} characters long; the limit is {max_chars:,} "
            "characters. Shorten it (or split it into several messages) and send it again."
        )
    return text


def title_from(text: str, *, limit: int = TITLE_CHARS) -> str:
    """A one-line title: whitespace and control characters collapsed, cut with an ellipsis."""
    # Controls and separators become spaces; format characters stay (emoji sequences use ZWJ).
    cleaned = "".join(" " if _is_break(c) else c for c in text)
    title = " ".join(cleaned.split())
    if len(title) > limit:
        title = title[: limit - 1].rstrip() + "…"
    return title or "New chat"


def _is_break(char: str) -> bool:
    category = unicodedata.category(char)
    return category == "Cc" or category[0] == "Z"


class ChatService:
    """Conversations of signed-in users, and replies streamed from a backend and stored.

    Example::

        service = ChatService(ConversationRepository(portal.database), EchoBackend())
        turn = await service.start(user, None, "Hello")
        async for update in service.reply(user, turn):
            print(update.text)
    """

    def __init__(
        self,
        repository: ConversationRepository,
        backend: ChatBackend,
        *,
        system_prompt: str | None = None,
        history_budget_chars: int = 24_000,
        max_message_chars: int = 32_000,
        stream_interval: float = 0.1,
        stream_budget: float = 0,
        save_interval: float = 1.0,
        display_limit: int = 200,
        database_threads: int = 8,
        metrics: PortalMetrics | None = None,
    ) -> None:
        if history_budget_chars < 0:
            raise ConfigurationError(
                f"history_budget_chars is {history_budget_chars}: it must be 0 or more (0 sends "
                "no earlier messages). Fix GRADIO_PORTAL_CHAT_HISTORY_BUDGET_CHARS."
            )
        self.repository = repository
        self.backend = backend
        self.system_prompt = system_prompt
        self.history_budget_chars = history_budget_chars
        """Characters of earlier messages a model is sent at most: the repository reads the
        latest messages within it (:attr:`Turn.context`), and no more."""
        self.max_message_chars = max_message_chars
        self.stream_interval = stream_interval
        self.stream_budget = stream_budget
        self.streaming = 0
        """Replies streaming now, in this process."""
        # Streaming replies' latest text not yet written: reply id -> (user id, text).
        self._unsaved: dict[int, tuple[int, str]] = {}
        self._saved_at = time.monotonic()
        self._saving = False
        self.save_interval = save_interval
        self.display_limit = display_limit
        self._limiter = anyio.CapacityLimiter(database_threads)
        self.metrics = metrics

    @classmethod
    def from_settings(
        cls,
        repository: ConversationRepository,
        backend: ChatBackend,
        settings: PortalSettings,
        *,
        metrics: PortalMetrics | None = None,
    ) -> ChatService:
        """A service configured by the ``chat_*`` settings, counting turns in ``metrics``."""
        return cls(
            repository,
            backend,
            system_prompt=settings.chat_system_prompt or None,
            history_budget_chars=settings.chat_history_budget_chars,
            max_message_chars=settings.chat_max_message_chars,
            stream_interval=settings.chat_stream_interval,
            stream_budget=settings.chat_stream_budget,
            metrics=metrics,
        )

    # -- conversations ------------------------------------------------------------------------

    async def conversations(self, user: User, *, limit: int, offset: int = 0) -> ConversationPage:
        return await self._db(
            lambda: self.repository.conversations(user.id, limit=limit, offset=offset)
        )

    async def open(
        self, user: User, conversation_id: int, *, every_message: bool = False
    ) -> OpenedConversation | None:
        """The conversation and its latest ``display_limit`` messages (or all of them).

        None when the conversation is missing or not the user's.
        """
        last = None if every_message else self.display_limit
        found = await self._db(
            lambda: self.repository.messages(user.id, conversation_id, last=last)
        )
        return OpenedConversation(*found) if found is not None else None

    async def rename(self, user: User, conversation_id: int, title: str) -> ConversationInfo | None:
        """Rename; raises :class:`MessageRejected` for an empty title, None if not the user's."""
        cleaned = title_from(title, limit=MAX_TITLE_CHARS) if title.strip() else ""
        if not cleaned:
            raise MessageRejected("A title cannot be empty: type a few words and save again.")
        return await self._db(lambda: self.repository.rename(user.id, conversation_id, cleaned))

    async def delete(self, user: User, conversation_id: int) -> bool:
        return await self._db(lambda: self.repository.delete(user.id, conversation_id))

    # -- turns --------------------------------------------------------------------------------

    def clean(self, raw: str) -> str | None:
        """:func:`clean_message` with this service's length limit."""
        return clean_message(raw, max_chars=self.max_message_chars)

    async def start(self, user: User, conversation_id: int | None, text: str) -> Turn:
        """Store ``text`` (already :meth:`clean`) and an empty reply; see ``begin_turn``."""
        return await self._db(lambda: self._begin_turn(user, conversation_id, text))

    async def start_listing(
        self, user: User, conversation_id: int | None, text: str, *, limit: int
    ) -> tuple[Turn, ConversationPage]:
        """:meth:`start`, then the user's conversations as :meth:`conversations` lists them.

        One trip to a database thread for both: the chat page needs the list after every
        message (the conversation moves to the top, or appears there).
        """

        def work() -> tuple[Turn, ConversationPage]:
            turn = self._begin_turn(user, conversation_id, text)
            return turn, self.repository.conversations(user.id, limit=limit)

        return await self._db(work)

    async def unanswered(self, user: User, *, within: float = 60.0) -> Turn | None:
        """The user's latest turn of the last ``within`` seconds whose reply has not begun.

        See :meth:`ConversationRepository.unanswered_turn`.
        """
        since = utcnow() - timedelta(seconds=within)
        return await self._db(
            lambda: self.repository.unanswered_turn(
                user.id,
                since=since,
                context_chars=self.history_budget_chars,
                recent_limit=self.display_limit,
            )
        )

    def _begin_turn(self, user: User, conversation_id: int | None, text: str) -> Turn:
        return self.repository.begin_turn(
            user.id,
            conversation_id,
            text,
            title=title_from(text),
            context_chars=self.history_budget_chars,
            recent_limit=self.display_limit,
        )

    def request_for(self, user: User, turn: Turn) -> ChatRequest:
        """What the backend is asked: the stored history (never the client's).

        ``turn.context`` is already bounded by ``history_budget_chars``: the repository stops
        reading there, so a long conversation costs only what the model will see.
        """
        history = tuple(
            ChatMessage("user" if m.role == "user" else "assistant", m.content)
            for m in turn.context
        )
        return ChatRequest(
            message=turn.user_message.content,
            history=history,
            user_display_name=user.display_name,
            system_prompt=self.system_prompt,
        )

    async def reply(self, user: User, turn: Turn) -> AsyncGenerator[ReplyUpdate, None]:
        """Stream the reply to ``turn`` as cumulative updates, storing it as it grows.

        The last update has ``done=True`` (and ``error`` when the backend failed). Closing the
        generator early (the user pressed stop) keeps the partial text with :data:`STOPPED`.
        """
        text = ""
        finished = False
        failed = False
        tokens: _Counted | None = None
        self.streaming += 1
        try:
            try:
                tokens = _Counted(self.backend.stream(self.request_for(user, turn)))
                async with contextlib.aclosing(coalesce(tokens, self.update_interval)) as updates:
                    async for text in updates:
                        self._unsaved[turn.reply_id] = (user.id, text)
                        await self._save_progress_if_due()
                        yield ReplyUpdate(text)
            except BackendError as exc:
                error: str | None = str(exc)
            except Exception:
                log.exception("chat reply %s failed", turn.reply_id)
                error = UNEXPECTED
            else:
                error = None
            await self._save(user, turn.reply_id, text, complete=error is None, error=error)
            finished, failed = True, error is not None
            yield ReplyUpdate(text, done=True, error=error)
        finally:
            self.streaming -= 1
            if self.metrics is not None:
                outcome: ChatOutcome = "failed" if failed else "complete" if finished else "stopped"
                self.metrics.chat_turn(outcome, tokens.count if tokens is not None else 0)
            self._unsaved.pop(turn.reply_id, None)  # the final save writes the whole text
            if not finished:
                # Stop, a closed page or shutdown: keep what was written. Shielded, because a
                # cancelled task would otherwise abandon the write at its first await.
                with anyio.CancelScope(shield=True):
                    await self._save(user, turn.reply_id, text, complete=False, error=STOPPED)

    def update_interval(self) -> float:
        """Seconds between one reply's updates now: ``stream_interval``, or more while more
        replies stream than ``stream_budget`` updates per second allow.

        Every update costs the server about the same CPU whatever its size, so a process
        streaming many replies spends its time on updates and a new message waits for its
        first token. Spacing updates out keeps the total at the budget: the replies arrive
        as fast (the text is the same), in fewer, larger steps. A reply's first update never
        waits for it.
        """
        if self.stream_budget <= 0:
            return self.stream_interval
        return max(self.stream_interval, self.streaming / self.stream_budget)

    # -- plumbing -----------------------------------------------------------------------------

    async def _save_progress_if_due(self) -> None:
        """Write every streaming reply's text so far, once a ``save_interval`` at most.

        One write for all of this process's replies: whichever reply updates first after
        the interval writes them all, in one transaction and one trip to a database thread
        (rather than one of each per reply). A database hiccup must not cut replies short:
        the texts stay pending for the next write, and each reply's final save writes its
        whole text anyway.
        """
        now = time.monotonic()
        if self._saving or now - self._saved_at < self.save_interval or not self._unsaved:
            return
        batch, self._unsaved = self._unsaved, {}
        self._saving, self._saved_at = True, now
        try:
            rows = [(user_id, reply_id, text) for reply_id, (user_id, text) in batch.items()]
            await self._db(lambda: self.repository.save_progress(rows))
        except (SQLAlchemyError, PortalError) as exc:
            log.warning("could not save %d partial replies yet: %s", len(batch), exc)
            for reply_id, pending in batch.items():
                self._unsaved.setdefault(reply_id, pending)
        finally:
            self._saving = False

    async def _save(
        self, user: User, reply_id: int, text: str, *, complete: bool, error: str | None = None
    ) -> None:
        await self._db(
            lambda: self.repository.save_reply(
                user.id, reply_id, text, complete=complete, error=error
            )
        )

    async def _db(self, work: Callable[[], T]) -> T:
        return await anyio.to_thread.run_sync(work, limiter=self._limiter)


class _Counted:
    """A backend's stream that counts the pieces of text it yields."""

    def __init__(self, source: AsyncIterator[str]) -> None:
        self.source = source
        self.count = 0

    def __aiter__(self) -> _Counted:
        return self

    async def __anext__(self) -> str:
        token = await self.source.__anext__()
        self.count += 1
        return token

    async def aclose(self) -> None:
        aclose = getattr(self.source, "aclose", None)
        if aclose is not None:
            await aclose()
