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
import dataclasses
import logging
import re
import time
import unicodedata
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

import anyio
import anyio.to_thread
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from gradio_portal import (
    BackendError,
    ConfigurationError,
    MessageRejected,
    PortalError,
    PortalSettings,
    User,
)
from gradio_portal.chat.attachments import (
    AttachmentInfo,
    AttachmentStore,
    image_parts,
    model_text,
)
from gradio_portal.chat.backends import ChatBackend, ChatMessage, ChatRequest, available_models
from gradio_portal.chat.coalesce import coalesce
from gradio_portal.chat.preferences import ChatPreferences, Preferences
from gradio_portal.chat.repository import (
    MAX_TITLE_CHARS,
    ConversationInfo,
    ConversationPage,
    ConversationRepository,
    QuotaExceeded,
    StoredMessage,
    Turn,
    next_usage_day,
    usage_day,
)
from gradio_portal.chat.search import ConversationSearch
from gradio_portal.observability import PortalMetrics
from gradio_portal.observability.metrics import ChatOutcome
from gradio_portal.storage.models import utcnow

__all__ = [
    "STOPPED",
    "UNEXPECTED",
    "ChatService",
    "MessageRejected",
    "OpenedConversation",
    "QuotaExceeded",
    "ReplyUpdate",
    "Usage",
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
FEEDBACK_CHARS = 2000
"""The longest comment a rating may carry."""
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
class Usage:
    """Messages a user sent today, the daily ``limit`` (0: none) and when the count resets."""

    today: int
    limit: int
    resets_at: datetime


@dataclass(frozen=True, slots=True)
class OpenedConversation:
    """A conversation with its latest messages, as a page shows it."""

    conversation: ConversationInfo
    messages: tuple[StoredMessage, ...]
    earlier: int
    files: Mapping[int, tuple[AttachmentInfo, ...]] = field(default_factory=dict)
    """The files attached to the messages, by message id."""


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
        default_model: str | None = None,
        offered_models: Sequence[str] = (),
        daily_message_limit: int = 0,
        attachments: AttachmentStore | None = None,
    ) -> None:
        if history_budget_chars < 0:
            raise ConfigurationError(
                f"history_budget_chars is {history_budget_chars}: it must be 0 or more (0 sends "
                "no earlier messages). Fix GRADIO_PORTAL_CHAT_HISTORY_BUDGET_CHARS."
            )
        self.repository = repository
        self.backend = backend
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
        self._search = ConversationSearch(repository.database)
        offered = tuple(dict.fromkeys(m.strip() for m in offered_models if m.strip()))
        self.preferences = ChatPreferences(
            repository.database, Preferences(default_model, system_prompt, offered)
        )
        """The default model and system prompt, and the models offered: the arguments, or
        what administrators chose on /admin/chat."""
        self.daily_message_limit = daily_message_limit
        """Messages a user may send to the model per UTC day; 0: no limit."""
        self.attachments = attachments
        """Where files attached to messages are kept; None: messages take no files."""

    @property
    def default_model(self) -> str | None:
        """The model of a conversation that chose none (None: the backend's own)."""
        return self.preferences.current.default_model

    @property
    def system_prompt(self) -> str | None:
        """The system prompt of a conversation that set none."""
        return self.preferences.current.system_prompt

    @property
    def offered_models(self) -> tuple[str, ...]:
        """The models users may choose; empty: every model the backend lists."""
        return self.preferences.current.offered_models

    async def fresh_preferences(self) -> Preferences:
        """The preferences, read again first when the cached ones are older than their ttl."""
        if self.preferences.stale:
            return await self._db(self.preferences.read)
        return self.preferences.current

    @classmethod
    def from_settings(
        cls,
        repository: ConversationRepository,
        backend: ChatBackend,
        settings: PortalSettings,
        *,
        metrics: PortalMetrics | None = None,
        attachments: AttachmentStore | None = None,
    ) -> ChatService:
        """A service configured by the ``chat_*`` settings, counting turns in ``metrics``,
        keeping attached files in ``attachments`` (None: messages take no files)."""
        return cls(
            repository,
            backend,
            system_prompt=settings.chat_system_prompt or None,
            history_budget_chars=settings.chat_history_budget_chars,
            max_message_chars=settings.chat_max_message_chars,
            stream_interval=settings.chat_stream_interval,
            stream_budget=settings.chat_stream_budget,
            metrics=metrics,
            default_model=settings.openai_model if settings.chat_backend == "openai" else None,
            offered_models=settings.chat_models,
            daily_message_limit=settings.chat_daily_message_limit,
            attachments=attachments,
        )

    # -- conversations ------------------------------------------------------------------------

    async def conversations(self, user: User, *, limit: int, offset: int = 0) -> ConversationPage:
        return await self._db(
            lambda: self.repository.conversations(user.id, limit=limit, offset=offset)
        )

    async def search(
        self, user: User, text: str, *, limit: int, offset: int = 0
    ) -> ConversationPage:
        """The user's conversations whose title or a message has every word of ``text``
        (each as the start of a word), most recently active first; see chat/search.py."""
        return await self._db(
            lambda: self._search.search(user.id, text, limit=limit, offset=offset)
        )

    async def open(
        self, user: User, conversation_id: int, *, every_message: bool = False
    ) -> OpenedConversation | None:
        """The conversation and its latest ``display_limit`` messages (or all of them).

        None when the conversation is missing or not the user's.
        """
        last = None if every_message else self.display_limit

        def work() -> OpenedConversation | None:
            found = self.repository.messages(user.id, conversation_id, last=last)
            if found is None:
                return None
            info, messages, earlier = found
            listed = self._listed(user, (m.id for m in messages if m.role == "user"))
            return OpenedConversation(info, messages, earlier, listed)

        return await self._db(work)

    async def get(self, user: User, conversation_id: int) -> ConversationInfo | None:
        """The conversation without its messages; None when missing or not the user's."""
        return await self._db(lambda: self.repository.get(user.id, conversation_id))

    async def rename(self, user: User, conversation_id: int, title: str) -> ConversationInfo | None:
        """Rename; raises :class:`MessageRejected` for an empty title, None if not the user's."""
        cleaned = title_from(title, limit=MAX_TITLE_CHARS) if title.strip() else ""
        if not cleaned:
            raise MessageRejected("A title cannot be empty: type a few words and save again.")
        return await self._db(lambda: self.repository.rename(user.id, conversation_id, cleaned))

    async def delete(self, user: User, conversation_id: int) -> bool:
        return await self._db(lambda: self.repository.delete(user.id, conversation_id))

    async def configure(
        self, user: User, conversation_id: int, **values: str | None
    ) -> ConversationInfo | None:
        """Choose the conversation's ``model`` and/or ``system_prompt`` ("" or None: default).

        Raises :class:`MessageRejected` for a model that is not offered or a system prompt
        over the message length limit; None when the conversation is not the user's.
        """
        cleaned = {key: await self._setting(key, value) for key, value in values.items()}
        return await self._db(
            lambda: self.repository.configure(user.id, conversation_id, **cleaned)
        )

    async def _setting(self, key: str, value: str | None) -> str | None:
        if key == "model":
            return await self.check_model(value)
        if key == "system_prompt":
            return self.clean_system_prompt(value)
        raise TypeError(f"cannot configure {key}")

    # -- models, feedback, usage --------------------------------------------------------------

    async def models(self) -> tuple[str, ...]:
        """The models users may choose: ``offered_models``, else what the backend lists.

        A backend that cannot list its models (or is unreachable now) offers its default.
        """
        await self.fresh_preferences()
        if self.offered_models:
            return self.offered_models
        try:
            listed = await available_models(self.backend)
        except BackendError as exc:
            log.warning("could not list the backend's models: %s", exc)
            listed = ()
        if listed:
            return listed
        return (self.default_model,) if self.default_model else ()

    async def check_model(self, model: str | None) -> str | None:
        """``model`` if users may choose it (None or "": the default); else MessageRejected."""
        if not model or not model.strip():
            return None
        model = model.strip()
        offered = await self.models()
        if model not in offered:
            shown = ", ".join(offered[:20]) or "none"
            raise MessageRejected(
                f"The model {model[:100]!r} is not offered here. Choose one of: {shown}."
            )
        return model

    def clean_system_prompt(self, text: str | None) -> str | None:
        """The system prompt to store (None: the default); MessageRejected when too long."""
        if text is None:
            return None
        cleaned = clean_message(text, max_chars=self.max_message_chars)
        return cleaned.strip() if cleaned is not None else None

    async def rate(
        self,
        user: User,
        conversation_id: int,
        message_id: int,
        rating: int | None,
        comment: str | None = None,
    ) -> StoredMessage | None:
        """Store the user's rating of a reply (1, -1; None clears it) with a comment.

        None when the message is not a reply of the user's conversation ``conversation_id``.
        """
        if rating not in (1, -1, None):
            raise MessageRejected("A rating is 1 (thumbs up), -1 (thumbs down) or none.")
        note = clean_message(comment, max_chars=FEEDBACK_CHARS) if comment else None
        return await self._db(
            lambda: self.repository.set_feedback(user.id, conversation_id, message_id, rating, note)
        )

    async def usage(self, user: User) -> Usage:
        """What the user has sent today, against the daily limit."""
        now = utcnow()
        sent = await self._db(lambda: self.repository.usage(user.id, usage_day(now)))
        return Usage(sent, self.daily_message_limit, next_usage_day(now))

    # -- turns --------------------------------------------------------------------------------

    def clean(self, raw: str) -> str | None:
        """:func:`clean_message` with this service's length limit."""
        return clean_message(raw, max_chars=self.max_message_chars)

    async def start(
        self,
        user: User,
        conversation_id: int | None,
        text: str,
        *,
        model: str | None = None,
        system_prompt: str | None = None,
        attachments: Sequence[int] = (),
    ) -> Turn:
        """Store ``text`` (already :meth:`clean`) and an empty reply; see ``begin_turn``.

        ``model`` and ``system_prompt`` are those of a conversation this message creates
        (checked as :meth:`configure` does); an existing conversation keeps its own.
        """
        await self.fresh_preferences()
        chosen = await self.check_model(model) if model else None
        prompt = self.clean_system_prompt(system_prompt)
        return await self._db(
            lambda: self._begin_turn(
                user,
                conversation_id,
                text,
                model=chosen,
                system_prompt=prompt,
                attachments=attachments,
            )
        )

    async def add_message(
        self, user: User, conversation_id: int, text: str, *, attachments: Sequence[int] = ()
    ) -> Turn | None:
        """:meth:`start` in an existing conversation only: None when it is not the user's."""
        await self.fresh_preferences()
        try:
            return await self._db(
                lambda: self._with_files(
                    user,
                    self.repository.begin_turn(
                        user.id,
                        conversation_id,
                        text,
                        title=title_from(text),
                        context_chars=self.history_budget_chars,
                        recent_limit=self.display_limit,
                        daily_limit=self.daily_message_limit,
                        new_if_missing=False,
                        with_message=self._claimer(user, attachments) if attachments else None,
                        finish=self._files_of(user),
                    ),
                )
            )
        except LookupError:
            return None

    async def answer_again(
        self, user: User, conversation_id: int, *, edited: tuple[int, str] | None = None
    ) -> Turn | None:
        """Regenerate the last reply, or (``edited``) change the last user message and resend.

        ``edited`` is ``(message_id, text)`` with the text already :meth:`clean`. None when
        the conversation is not the user's or has nothing to answer.
        """
        await self.fresh_preferences()

        def work() -> Turn | None:
            turn = self.repository.answer_again(
                user.id,
                conversation_id,
                edited=edited,
                context_chars=self.history_budget_chars,
                recent_limit=self.display_limit,
                daily_limit=self.daily_message_limit,
            )
            return self._with_files(user, turn) if turn is not None else None

        return await self._db(work)

    async def start_listing(
        self,
        user: User,
        conversation_id: int | None,
        text: str,
        *,
        limit: int,
        model: str | None = None,
        system_prompt: str | None = None,
        attachments: Sequence[int] = (),
    ) -> tuple[Turn, ConversationPage]:
        """:meth:`start`, then the user's conversations as :meth:`conversations` lists them.

        One trip to a database thread for both: the chat page needs the list after every
        message (the conversation moves to the top, or appears there).
        """
        await self.fresh_preferences()
        chosen = await self.check_model(model) if model else None

        def work() -> tuple[Turn, ConversationPage]:
            turn = self._begin_turn(
                user,
                conversation_id,
                text,
                model=chosen,
                system_prompt=system_prompt,
                attachments=attachments,
            )
            return turn, self.repository.conversations(user.id, limit=limit)

        return await self._db(work)

    async def unanswered(self, user: User, *, within: float = 60.0) -> Turn | None:
        """The user's latest turn of the last ``within`` seconds whose reply has not begun.

        See :meth:`ConversationRepository.unanswered_turn`.
        """
        since = utcnow() - timedelta(seconds=within)

        def work() -> Turn | None:
            turn = self.repository.unanswered_turn(
                user.id,
                since=since,
                context_chars=self.history_budget_chars,
                recent_limit=self.display_limit,
            )
            return self._with_files(user, turn) if turn is not None else None

        return await self._db(work)

    def _begin_turn(
        self,
        user: User,
        conversation_id: int | None,
        text: str,
        *,
        model: str | None = None,
        system_prompt: str | None = None,
        attachments: Sequence[int] = (),
    ) -> Turn:
        claim = self._claimer(user, attachments) if attachments else None
        turn = self.repository.begin_turn(
            user.id,
            conversation_id,
            text,
            title=title_from(text),
            context_chars=self.history_budget_chars,
            recent_limit=self.display_limit,
            model=model,
            system_prompt=system_prompt,
            daily_limit=self.daily_message_limit,
            with_message=claim,
            finish=self._files_of(user),
        )
        return turn

    def _listed(
        self, user: User, message_ids: Iterable[int], session: Session | None = None
    ) -> Mapping[int, tuple[AttachmentInfo, ...]]:
        """The files of these messages, without contents (none without a store)."""
        if self.attachments is None:
            return {}
        return self.attachments.infos_for_messages(user.id, message_ids, session=session)

    def _with_files(self, user: User, turn: Turn, session: Session | None = None) -> Turn:
        """``turn`` with the files of its messages: listed for display, read for the model.

        Two small indexed reads (in ``session``, the turn's own transaction, when given): the
        files' names for every message shown, then the contents of those the model reads,
        only when there are any.
        """
        if self.attachments is None:
            return turn
        asked = turn.user_message.id
        shown = [*(m.id for m in turn.recent if m.role == "user"), asked]
        listed = self._listed(user, shown, session)
        read = [m.id for m in (*turn.context, turn.user_message) if m.id in listed]
        files = self.attachments.for_messages(user.id, read, session=session) if read else {}
        return dataclasses.replace(turn, files=files, listed=listed)

    def _files_of(self, user: User) -> Callable[[Session, Turn], Turn] | None:
        """:meth:`_with_files` as ``begin_turn``'s ``finish``: in the turn's transaction."""
        if self.attachments is None:
            return None
        return lambda session, turn: self._with_files(user, turn, session)

    def _claimer(
        self, user: User, attachment_ids: Sequence[int]
    ) -> Callable[[Session, int, int], object]:
        """What ``begin_turn`` runs once the message is stored: it takes the files along."""
        store = self.attachments
        if store is None:
            raise MessageRejected("This chat does not take attachments: send the text alone.")
        ids = list(attachment_ids)

        def claim(session: Session, conversation_id: int, message_id: int) -> object:
            return store.claim(session, user.id, ids, conversation_id, message_id)

        return claim

    def request_for(self, user: User, turn: Turn) -> ChatRequest:
        """What the backend is asked: the stored history (never the client's).

        ``turn.context`` is already bounded by ``history_budget_chars``: the repository stops
        reading there, so a long conversation costs only what the model will see.
        """
        files = turn.files
        asked = files.get(turn.user_message.id, ())
        message = model_text(
            turn.user_message.content,
            asked,
            budget_chars=len(turn.user_message.content) + self.history_budget_chars,
        )
        # The new message's files come first; earlier messages' files get what is left of
        # the history budget, newest first (their own text is already within it).
        room = self.history_budget_chars - sum(len(m.content) for m in turn.context)
        room -= len(message) - len(turn.user_message.content)
        history: list[ChatMessage] = []
        for m in reversed(turn.context):
            content = m.content
            if m.id in files:
                content = model_text(
                    m.content, files[m.id], budget_chars=len(m.content) + max(0, room)
                )
                room -= len(content) - len(m.content)
            history.append(ChatMessage("user" if m.role == "user" else "assistant", content))
        history.reverse()
        conversation = turn.conversation
        return ChatRequest(
            message=message,
            history=tuple(history),
            user_display_name=user.display_name,
            system_prompt=conversation.system_prompt or self.system_prompt,
            model=conversation.model or self.default_model,
            images=image_parts(asked),
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
