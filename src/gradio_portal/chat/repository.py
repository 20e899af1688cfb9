"""Conversations and messages in the database, always seen through one user's eyes.

Every statement names the owner in its own ``WHERE`` clause (``conversations.user_id = :uid``),
messages included (through their conversation), so an id that belongs to someone else finds
nothing and changes nothing, whichever path it arrived by. A conversation that is missing and one
that belongs to another user look the same to callers: ``None`` or ``False``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, literal, null, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from gradio_portal import MessageRejected
from gradio_portal.storage.database import Database
from gradio_portal.storage.models import ChatUsage, Conversation, Message, UTCDateTime, utcnow

__all__ = [
    "MAX_TITLE_CHARS",
    "NOT_ANSWERABLE",
    "ConversationInfo",
    "ConversationPage",
    "ConversationRepository",
    "QuotaExceeded",
    "StoredMessage",
    "Turn",
    "next_usage_day",
    "usage_day",
]

MAX_TITLE_CHARS = 200
"""The width of ``conversations.title``; longer titles are cut here, not refused by the database."""

NOT_ANSWERABLE = (
    "Only the latest message of a conversation can be answered again or edited: reload the "
    "conversation to see its latest messages."
)


class QuotaExceeded(MessageRejected):
    """The user has sent today's allowance of messages: ``limit``, until ``resets_at``."""

    def __init__(self, limit: int, now: datetime) -> None:
        self.limit = limit
        self.resets_at = next_usage_day(now)
        left = max(0, int((self.resets_at - now).total_seconds()) // 60)
        wait = f"{left // 60} h {left % 60} min" if left >= 60 else f"{max(left, 1)} min"
        super().__init__(
            f"You have sent today's {limit} messages, the daily limit. The count resets at "
            f"00:00 UTC, in {wait}: send your message again then."
        )


@dataclass(frozen=True, slots=True)
class ConversationInfo:
    """A conversation without its messages."""

    id: int
    title: str
    created_at: datetime
    updated_at: datetime
    model: str | None = None
    """The model chosen for this conversation; None: the chat's default."""
    system_prompt: str | None = None
    """The system prompt chosen for this conversation; None: the chat's default."""


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """One stored message. ``complete`` is False for a reply that was cut off (or still streams).

    ``feedback`` is the owner's rating of a reply (1 up, -1 down, None), with an optional
    ``feedback_comment``.
    """

    id: int
    role: str
    content: str
    complete: bool
    error: str | None
    created_at: datetime
    feedback: int | None = None
    feedback_comment: str | None = None


@dataclass(frozen=True, slots=True)
class ConversationPage:
    """One page of a user's conversations, newest first, and how many there are in all."""

    items: tuple[ConversationInfo, ...]
    total: int


@dataclass(frozen=True, slots=True)
class Turn:
    """What :meth:`ConversationRepository.begin_turn` stored and read for one user message.

    Attributes:
        conversation: the conversation the message went to.
        created: True when the conversation was created for this message.
        user_message: the stored user message.
        reply_id: the id of the (empty, incomplete) assistant reply row.
        context: the earlier messages for the model, oldest first, within the character budget.
        recent: the latest earlier messages for display, oldest first.
        earlier: how many earlier messages exist beyond ``recent``.
        files: the files attached to the messages the model reads (``context`` and
            ``user_message``), with their contents, by message id (filled in by the service).
        listed: the files of every message shown (``recent`` and ``user_message``), without
            contents, by message id.
    """

    conversation: ConversationInfo
    created: bool
    user_message: StoredMessage
    reply_id: int
    context: tuple[StoredMessage, ...]
    recent: tuple[StoredMessage, ...]
    earlier: int
    files: Mapping[int, tuple[Any, ...]] = field(default_factory=dict)
    listed: Mapping[int, tuple[Any, ...]] = field(default_factory=dict)


class ConversationRepository:
    """Owner-scoped reads and writes of conversations and messages (synchronous).

    Example::

        repo = ConversationRepository(portal.database)
        info = repo.create(user.id, "Trip to Lisbon")
        repo.get(other_user.id, info.id)   # None: not theirs
    """

    def __init__(self, database: Database) -> None:
        self.database = database

    # -- conversations ------------------------------------------------------------------------

    def conversations(self, user_id: int, *, limit: int = 20, offset: int = 0) -> ConversationPage:
        """The user's conversations, most recently active first."""
        with self.database.session() as session:
            total = session.scalar(
                select(func.count())
                .select_from(Conversation)
                .where(Conversation.user_id == user_id)
            )
            rows = session.scalars(
                select(Conversation)
                .where(Conversation.user_id == user_id)
                .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
                .limit(limit)
                .offset(offset)
            ).all()
            return ConversationPage(tuple(_info(row) for row in rows), int(total or 0))

    def get(self, user_id: int, conversation_id: int) -> ConversationInfo | None:
        """The conversation, or None when it is missing or not the user's."""
        with self.database.session() as session:
            row = _owned_conversation(session, user_id, conversation_id)
            return _info(row) if row is not None else None

    def messages(
        self, user_id: int, conversation_id: int, *, last: int | None = None
    ) -> tuple[ConversationInfo, tuple[StoredMessage, ...], int] | None:
        """The conversation with its messages, oldest first; None when not the user's.

        With ``last=N`` only the N latest messages are read; the third item says how many
        earlier ones were left out.
        """
        with self.database.session() as session:
            row = _owned_conversation(session, user_id, conversation_id)
            if row is None:
                return None
            recent, earlier = _recent(session, user_id, conversation_id, last)
            return _info(row), recent, earlier

    def create(
        self,
        user_id: int,
        title: str,
        *,
        model: str | None = None,
        system_prompt: str | None = None,
    ) -> ConversationInfo:
        """Start an empty conversation for the user."""
        with self.database.session() as session:
            return _insert_conversation(session, user_id, title, utcnow(), model, system_prompt)

    def configure(
        self, user_id: int, conversation_id: int, **values: str | None
    ) -> ConversationInfo | None:
        """Set the conversation's ``model`` and/or ``system_prompt`` (None: the default).

        None when the conversation is not the user's.
        """
        unknown = set(values) - {"model", "system_prompt"}
        if unknown:
            raise TypeError(f"cannot configure {', '.join(sorted(unknown))}")
        with self.database.session() as session:
            if values:
                result = session.execute(
                    update(Conversation)
                    .where(Conversation.id == conversation_id, Conversation.user_id == user_id)
                    .values(**values)
                )
                if _rowcount(result) != 1:
                    return None
            row = _owned_conversation(session, user_id, conversation_id)
            return _info(row) if row is not None else None

    def rename(self, user_id: int, conversation_id: int, title: str) -> ConversationInfo | None:
        """Give the conversation a new title; None when it is not the user's."""
        with self.database.session() as session:
            result = session.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id, Conversation.user_id == user_id)
                .values(title=title[:MAX_TITLE_CHARS])
            )
            if _rowcount(result) != 1:
                return None
            row = _owned_conversation(session, user_id, conversation_id)
            return _info(row) if row is not None else None

    def delete(self, user_id: int, conversation_id: int) -> bool:
        """Delete the conversation and its messages; False when it is not the user's."""
        with self.database.session() as session:
            # Messages go with it through ON DELETE CASCADE, in the same statement.
            result = session.execute(
                delete(Conversation).where(
                    Conversation.id == conversation_id, Conversation.user_id == user_id
                )
            )
            return _rowcount(result) == 1

    # -- messages -----------------------------------------------------------------------------

    def begin_turn(
        self,
        user_id: int,
        conversation_id: int | None,
        content: str,
        *,
        title: str,
        context_chars: int,
        recent_limit: int,
        model: str | None = None,
        system_prompt: str | None = None,
        daily_limit: int = 0,
        with_message: Callable[[Session, int, int], object] | None = None,
        new_if_missing: bool = True,
        finish: Callable[[Session, Turn], Turn] | None = None,
    ) -> Turn:
        """Store a user message and an empty assistant reply, in one transaction.

        The message goes to ``conversation_id`` when that is the user's, otherwise to a new
        conversation called ``title``, with ``model`` and ``system_prompt`` (a stale or foreign
        id never writes anywhere else). The reply row exists from the start, so a reply cut off
        by a dying process is still found. The message is counted in the user's usage of the
        day; with ``daily_limit`` above 0, a message over it raises :class:`QuotaExceeded` and
        nothing is stored. ``with_message(session, conversation_id, message_id)`` runs in the
        same transaction once the user message is stored (attachments are claimed there).
        With ``new_if_missing=False`` a ``conversation_id`` that is not the user's raises
        :class:`LookupError` instead, and nothing is stored. ``finish(session, turn)`` reads
        more for the turn in the same transaction (the files of its messages) and returns it.
        """
        with self.database.session() as session:
            now = utcnow()
            _count_message(session, user_id, now, daily_limit)
            row: Conversation | None = None
            if conversation_id is not None:
                touched = session.execute(
                    update(Conversation)
                    .where(Conversation.id == conversation_id, Conversation.user_id == user_id)
                    .values(updated_at=now)
                )
                if _rowcount(touched) == 1:
                    row = _owned_conversation(session, user_id, conversation_id)
            created = row is None
            if row is None and not new_if_missing:
                raise LookupError(f"conversation {conversation_id} is not the user's")
            if row is None:
                info = _insert_conversation(session, user_id, title, now, model, system_prompt)
                # A conversation created here has no earlier messages to read.
                context: tuple[StoredMessage, ...] = ()
                recent: tuple[StoredMessage, ...] = ()
                earlier = 0
            else:
                info = _info(row)
                context = _context(session, user_id, row.id, context_chars)
                recent, earlier = _recent(session, user_id, row.id, recent_limit)
            user_message = _insert_message(session, user_id, info.id, "user", content, True, now)
            if with_message is not None:
                with_message(session, info.id, user_message.id)
            reply = _insert_message(session, user_id, info.id, "assistant", "", False, now)
            turn = Turn(
                conversation=info,
                created=created,
                user_message=user_message,
                reply_id=reply.id,
                context=context,
                recent=recent,
                earlier=earlier,
            )
            return finish(session, turn) if finish is not None else turn

    def save_reply(
        self,
        user_id: int,
        message_id: int,
        content: str,
        *,
        complete: bool,
        error: str | None = None,
    ) -> bool:
        """Overwrite an assistant reply; False when it is not in one of the user's conversations."""
        with self.database.session() as session:
            result = session.execute(
                update(Message)
                .where(
                    Message.id == message_id,
                    Message.role == "assistant",
                    Message.conversation_id.in_(_owned_ids(user_id)),
                )
                .values(content=content, complete=complete, error=error)
            )
            return _rowcount(result) == 1

    def answer_again(
        self,
        user_id: int,
        conversation_id: int,
        *,
        edited: tuple[int, str] | None = None,
        context_chars: int,
        recent_limit: int,
        daily_limit: int = 0,
    ) -> Turn | None:
        """Ask again for the conversation's last user message: regenerate, or edit and resend.

        The replies after the last user message are deleted and a new empty reply is stored,
        in one transaction. With ``edited=(message_id, text)`` the last user message (which
        must be ``message_id``) gets the new text first. Counted in the day's usage like a new
        message. None when the conversation is not the user's or has no user message; raises
        :class:`MessageRejected` (:data:`NOT_ANSWERABLE`) when ``message_id`` is not the last.
        """
        with self.database.session() as session:
            now = utcnow()
            row = _owned_conversation(session, user_id, conversation_id)
            if row is None:
                return None
            asked = session.scalar(
                _owned_messages(user_id, conversation_id)
                .where(Message.role == "user")
                .order_by(Message.id.desc())
                .limit(1)
            )
            if asked is None:
                return None
            if edited is not None:
                message_id, text = edited
                if message_id != asked.id:
                    raise MessageRejected(NOT_ANSWERABLE)
                asked.content = text
            _count_message(session, user_id, now, daily_limit)
            session.execute(
                delete(Message).where(
                    Message.conversation_id == conversation_id, Message.id > asked.id
                )
            )
            row.updated_at = now
            session.flush()
            reply = _insert_message(session, user_id, conversation_id, "assistant", "", False, now)
            context = _context(session, user_id, conversation_id, context_chars)
            recent, earlier = _recent(session, user_id, conversation_id, recent_limit + 2)
            return Turn(
                conversation=_info(row),
                created=False,
                user_message=_stored(asked),
                reply_id=reply.id,
                context=tuple(m for m in context if m.id < asked.id),
                recent=tuple(m for m in recent if m.id < asked.id)[-recent_limit:],
                earlier=earlier,
            )

    def set_feedback(
        self,
        user_id: int,
        conversation_id: int,
        message_id: int,
        rating: int | None,
        comment: str | None,
    ) -> StoredMessage | None:
        """Rate a reply of the user's conversation (1, -1, or None to clear).

        None when the message is not a reply in that conversation, or it is not the user's.
        """
        with self.database.session() as session:
            result = session.execute(
                update(Message)
                .where(
                    Message.id == message_id,
                    Message.role == "assistant",
                    Message.conversation_id == conversation_id,
                    Message.conversation_id.in_(_owned_ids(user_id)),
                )
                .values(feedback=rating, feedback_comment=comment)
            )
            if _rowcount(result) != 1:
                return None
            row = session.get(Message, message_id)
            return _stored(row) if row is not None else None

    def usage(self, user_id: int, day: str) -> int:
        """Messages the user sent on ``day`` (``YYYY-MM-DD``, UTC)."""
        with self.database.session() as session:
            count = session.scalar(
                select(ChatUsage.messages).where(ChatUsage.user_id == user_id, ChatUsage.day == day)
            )
            return int(count or 0)

    def unanswered_turn(
        self, user_id: int, *, since: datetime, context_chars: int, recent_limit: int
    ) -> Turn | None:
        """The user's latest turn stored after ``since`` whose reply has not begun, or None.

        For a page whose events moved to another process between storing its message and
        streaming the reply (a failover): that process finds the turn here, not in the page's
        state. A reply has not begun while it is empty, incomplete and without an error.
        """
        with self.database.session() as session:
            reply = session.scalar(
                select(Message)
                .join(Conversation, Message.conversation_id == Conversation.id)
                .where(
                    Conversation.user_id == user_id,
                    Message.role == "assistant",
                    Message.complete.is_(False),
                    Message.error.is_(None),
                    Message.content == "",
                    Message.created_at >= since,
                )
                .order_by(Message.id.desc())
                .limit(1)
            )
            if reply is None:
                return None
            asked = session.scalar(
                select(Message)
                .where(Message.conversation_id == reply.conversation_id, Message.id < reply.id)
                .order_by(Message.id.desc())
                .limit(1)
            )
            row = _owned_conversation(session, user_id, reply.conversation_id)
            if asked is None or asked.role != "user" or row is None:
                return None
            earlier_than = asked.id
            context = _context(session, user_id, row.id, context_chars)
            recent, earlier = _recent(session, user_id, row.id, recent_limit + 2)
            return Turn(
                conversation=_info(row),
                created=False,
                user_message=_stored(asked),
                reply_id=reply.id,
                context=tuple(m for m in context if m.id < earlier_than),
                recent=tuple(m for m in recent if m.id < earlier_than)[-recent_limit:],
                earlier=earlier,
            )

    def save_progress(self, replies: Iterable[tuple[int, int, str]]) -> None:
        """Write the text so far of several streaming replies, in one transaction.

        Each item is ``(user_id, message_id, content)``; a reply that is not in one of that
        user's conversations, or that has already ended (complete, or stopped with an error),
        is left as it is, so a late progress write never overwrites a reply's final text.
        """
        rows = [{"uid": u, "mid": m, "text": text} for u, m, text in replies]
        if not rows:
            return
        statement = (
            update(Message)
            .where(
                Message.id == bindparam("mid"),
                Message.role == "assistant",
                Message.complete.is_(False),
                Message.error.is_(None),
                Message.conversation_id.in_(
                    select(Conversation.id).where(Conversation.user_id == bindparam("uid"))
                ),
            )
            .values(content=bindparam("text"))
        )
        with self.database.session() as session:
            # Core executemany: one prepared statement for every row, no ORM bookkeeping.
            session.connection().execute(statement, rows)


def _info(row: Conversation) -> ConversationInfo:
    return ConversationInfo(
        row.id, row.title, row.created_at, row.updated_at, row.model, row.system_prompt
    )


def _stored(row: Message) -> StoredMessage:
    return StoredMessage(
        row.id,
        row.role,
        row.content,
        row.complete,
        row.error,
        row.created_at,
        row.feedback,
        row.feedback_comment,
    )


def usage_day(now: datetime) -> str:
    """The day a message sent at ``now`` counts for: its UTC date, ``YYYY-MM-DD``."""
    return now.astimezone(UTC).date().isoformat()


def next_usage_day(now: datetime) -> datetime:
    """When the day of ``now`` ends and the daily count starts again (00:00 UTC)."""
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight + timedelta(days=1)


def _count_message(session: Session, user_id: int, now: datetime, limit: int) -> None:
    """Count one message in the user's usage of the day; :class:`QuotaExceeded` over ``limit``.

    One statement, atomic across processes: ``INSERT ... ON CONFLICT DO UPDATE`` creates the
    day's row or increments it, and only while under the limit (``DO UPDATE ... WHERE``), so two
    racing requests cannot both take the last message of the day.
    """
    day = usage_day(now)
    dialect = session.get_bind().dialect.name
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    upsert = dialect_insert(ChatUsage).values(user_id=user_id, day=day, messages=1)
    counted = upsert.on_conflict_do_update(
        index_elements=["user_id", "day"],
        set_={"messages": ChatUsage.messages + 1},
        where=ChatUsage.messages < limit if limit > 0 else None,
    )
    # RETURNING, not the row count (psycopg reports none for an upsert): the row comes back
    # only if it was written.
    written = session.connection().execute(counted.returning(ChatUsage.messages)).first()
    if written is None:
        raise QuotaExceeded(limit, now)


def _owned_ids(user_id: int) -> Select[int]:
    return select(Conversation.id).where(Conversation.user_id == user_id)


def _owned_conversation(
    session: Session, user_id: int, conversation_id: int
) -> Conversation | None:
    return session.scalar(
        select(Conversation).where(
            Conversation.id == conversation_id, Conversation.user_id == user_id
        )
    )


def _insert_conversation(
    session: Session,
    user_id: int,
    title: str,
    now: datetime,
    model: str | None = None,
    system_prompt: str | None = None,
) -> ConversationInfo:
    # One INSERT ... RETURNING, without building an ORM object for a row used once.
    conversation_id = session.scalar(
        insert(Conversation)
        .values(
            user_id=user_id,
            title=title[:MAX_TITLE_CHARS],
            created_at=now,
            updated_at=now,
            model=model,
            system_prompt=system_prompt,
        )
        .returning(Conversation.id)
    )
    if conversation_id is None:  # pragma: no cover - RETURNING always answers for an INSERT
        raise RuntimeError("the database did not return the new conversation's id")
    return ConversationInfo(
        conversation_id, title[:MAX_TITLE_CHARS], now, now, model, system_prompt
    )


def _owned_messages(user_id: int, conversation_id: int) -> Select[Message]:
    return (
        select(Message)
        .join(Conversation, Message.conversation_id == Conversation.id)
        .where(Conversation.id == conversation_id, Conversation.user_id == user_id)
    )


def _recent(
    session: Session, user_id: int, conversation_id: int, last: int | None
) -> tuple[tuple[StoredMessage, ...], int]:
    query = _owned_messages(user_id, conversation_id).order_by(Message.id.desc())
    if last is not None:
        query = query.limit(last)
    rows = [_stored(row) for row in session.scalars(query)]
    rows.reverse()
    earlier = 0
    if last is not None and len(rows) == last:
        total = session.scalar(
            select(func.count())
            .select_from(Message)
            .join(Conversation, Message.conversation_id == Conversation.id)
            .where(Conversation.id == conversation_id, Conversation.user_id == user_id)
        )
        earlier = int(total or 0) - len(rows)
    return tuple(rows), earlier


def _context(
    session: Session, user_id: int, conversation_id: int, budget_chars: int
) -> tuple[StoredMessage, ...]:
    """The latest messages whose contents fit ``budget_chars``, oldest first: what the model
    is sent of the conversation so far.

    The budget is a hard limit, there to keep requests inside the model's context window: a
    latest message that alone exceeds it leaves the context empty. The messages kept are a
    contiguous run up to the newest (an older short message is never kept once a newer one was
    left out: a conversation with holes reads as a different one). Rows are read newest first
    in small batches and reading stops at the budget, so a long conversation costs only what
    the model will see; this is the one place the budget is applied.
    """
    query = (
        _owned_messages(user_id, conversation_id)
        .where(Message.role.in_(("user", "assistant")), Message.content != "")
        .order_by(Message.id.desc())
        .execution_options(yield_per=64)
    )
    kept: list[StoredMessage] = []
    used = 0
    for row in session.scalars(query):
        used += len(row.content)
        if used > budget_chars:
            break
        kept.append(_stored(row))
    kept.reverse()
    return tuple(kept)


def _insert_message(
    session: Session,
    user_id: int,
    conversation_id: int,
    role: str,
    content: str,
    complete: bool,
    now: datetime,
) -> StoredMessage:
    # INSERT ... SELECT from the owner's conversation: the row is written only if the
    # conversation is the user's, checked by the statement itself.
    source = select(
        Conversation.id,
        literal(role),
        literal(content),
        literal(complete),
        null(),
        literal(now, UTCDateTime()),
    ).where(Conversation.id == conversation_id, Conversation.user_id == user_id)
    columns = ["conversation_id", "role", "content", "complete", "error", "created_at"]
    message_id = session.scalar(insert(Message).from_select(columns, source).returning(Message.id))
    if message_id is None:
        raise LookupError(f"conversation {conversation_id} is not the user's")
    return StoredMessage(message_id, role, content, complete, None, now)


def _rowcount(result: object) -> int:
    # CursorResult.rowcount; Session.execute is typed as returning a plain Result.
    count = getattr(result, "rowcount", 0)
    return int(count) if isinstance(count, int) else 0
