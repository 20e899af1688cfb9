"""Conversations and messages in the database, always seen through one user's eyes.

Every statement names the owner in its own ``WHERE`` clause (``conversations.user_id = :uid``),
messages included (through their conversation), so an id that belongs to someone else finds
nothing and changes nothing, whichever path it arrived by. A conversation that is missing and one
that belongs to another user look the same to callers: ``None`` or ``False``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, func, insert, literal, null, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from gradio_portal.storage.database import Database
from gradio_portal.storage.models import Conversation, Message, UTCDateTime, utcnow

__all__ = [
    "MAX_TITLE_CHARS",
    "ConversationInfo",
    "ConversationPage",
    "ConversationRepository",
    "StoredMessage",
    "Turn",
]

MAX_TITLE_CHARS = 200
"""The width of ``conversations.title``; longer titles are cut here, not refused by the database."""


@dataclass(frozen=True, slots=True)
class ConversationInfo:
    """A conversation without its messages."""

    id: int
    title: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """One stored message. ``complete`` is False for a reply that was cut off (or still streams)."""

    id: int
    role: str
    content: str
    complete: bool
    error: str | None
    created_at: datetime


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
    """

    conversation: ConversationInfo
    created: bool
    user_message: StoredMessage
    reply_id: int
    context: tuple[StoredMessage, ...]
    recent: tuple[StoredMessage, ...]
    earlier: int


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

    def create(self, user_id: int, title: str) -> ConversationInfo:
        """Start an empty conversation for the user."""
        with self.database.session() as session:
            return _insert_conversation(session, user_id, title, utcnow())

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
    ) -> Turn:
        """Store a user message and an empty assistant reply, in one transaction.

        The message goes to ``conversation_id`` when that is the user's, otherwise to a new
        conversation called ``title`` (a stale or foreign id never writes anywhere else). The
        reply row exists from the start, so a reply cut off by a dying process is still found.
        """
        with self.database.session() as session:
            now = utcnow()
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
            if row is None:
                info = _insert_conversation(session, user_id, title, now)
                # A conversation created here has no earlier messages to read.
                context: tuple[StoredMessage, ...] = ()
                recent: tuple[StoredMessage, ...] = ()
                earlier = 0
            else:
                info = _info(row)
                context = _context(session, user_id, row.id, context_chars)
                recent, earlier = _recent(session, user_id, row.id, recent_limit)
            user_message = _insert_message(session, user_id, info.id, "user", content, True, now)
            reply = _insert_message(session, user_id, info.id, "assistant", "", False, now)
            return Turn(
                conversation=info,
                created=created,
                user_message=user_message,
                reply_id=reply.id,
                context=context,
                recent=recent,
                earlier=earlier,
            )

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
    return ConversationInfo(row.id, row.title, row.created_at, row.updated_at)


def _stored(row: Message) -> StoredMessage:
    return StoredMessage(row.id, row.role, row.content, row.complete, row.error, row.created_at)


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
    session: Session, user_id: int, title: str, now: datetime
) -> ConversationInfo:
    # One INSERT ... RETURNING, without building an ORM object for a row used once.
    conversation_id = session.scalar(
        insert(Conversation)
        .values(user_id=user_id, title=title[:MAX_TITLE_CHARS], created_at=now, updated_at=now)
        .returning(Conversation.id)
    )
    if conversation_id is None:  # pragma: no cover - RETURNING always answers for an INSERT
        raise RuntimeError("the database did not return the new conversation's id")
    return ConversationInfo(conversation_id, title[:MAX_TITLE_CHARS], now, now)


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
