"""Read-only share links: a conversation as it was when its owner shared it.

Sharing stores a *snapshot* (the title, and every message's role, text, completeness, error,
time and the names of its attached files, never their contents) next to the SHA-256 of a random
token; the link is ``/shared/<token>``. Messages sent
after sharing, renames and edits stay private until the owner shares again, which replaces the
link: the old token stops working and the new one shows the conversation as it is then. A
conversation has one link at most; revoking it, deleting the conversation (``ON DELETE
CASCADE``) or deleting the owner's account ends it, and so does disabling the owner's account,
for as long as it stays disabled.

Every write names the owner in its own ``WHERE`` clause, as in :mod:`.repository`: another
user's conversation id shares, revokes and reveals nothing, exactly like a missing one. The
token itself is never stored, and is shown once, in the answer to the request that made it.

The methods are synchronous (database work): async code runs them in a worker thread.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from gradio_portal.chat.attachments import attachment_infos
from gradio_portal.storage.database import Database
from gradio_portal.storage.models import (
    AccountRow,
    Conversation,
    ConversationShare,
    Message,
    utcnow,
)

__all__ = [
    "SHARED_PATH",
    "ShareLink",
    "ShareLinks",
    "ShareState",
    "SharedConversation",
    "SharedMessage",
    "looks_like_share_token",
]

SHARED_PATH = "/shared/"
"""Where a share link points: ``/shared/<token>``."""

_TOKEN_BYTES = 32  # 256 bits; secrets.token_urlsafe(32) is 43 characters of [A-Za-z0-9_-]
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
_SNAPSHOT_VERSION = 1


def looks_like_share_token(value: str) -> bool:
    """True for a string shaped like a share token (43 URL-safe characters)."""
    return _TOKEN.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class ShareLink:
    """A link just made. ``token`` is shown once; ``replaced`` when an earlier link ended."""

    token: str
    created_at: datetime
    replaced: bool

    @property
    def path(self) -> str:
        """The link on this site: ``/shared/<token>``."""
        return SHARED_PATH + self.token


@dataclass(frozen=True, slots=True)
class ShareState:
    """One of the user's conversations: ``shared_at`` None when it has no link."""

    shared_at: datetime | None


@dataclass(frozen=True, slots=True)
class SharedMessage:
    """One message of a snapshot; ``complete`` is False for a reply that was cut off."""

    role: str
    content: str
    complete: bool
    error: str | None
    created_at: datetime
    files: tuple[str, ...] = ()
    """The names of the files attached to the message (their contents are not shared)."""


@dataclass(frozen=True, slots=True)
class SharedConversation:
    """What a share link shows: the snapshot, who shared it (their display name now) and when."""

    title: str
    messages: tuple[SharedMessage, ...]
    shared_by: str
    shared_at: datetime


class ShareLinks:
    """Owner-scoped share links of conversations, and the snapshots they show.

    Example::

        links = ShareLinks(portal.database)
        token = links.share(alice.id, conversation_id)    # None: not alice's
        links.read(token).messages                         # what anyone signed in sees
        links.revoke(alice.id, conversation_id)            # True: the link stops working
    """

    def __init__(self, database: Database) -> None:
        self.database = database

    def share(self, user_id: int, conversation_id: int) -> str | None:
        """A new link's token for the conversation as it is now; None when it is not the user's.

        An earlier link of the conversation stops working.
        """
        link = self.create(user_id, conversation_id)
        return link.token if link is not None else None

    def create(self, user_id: int, conversation_id: int) -> ShareLink | None:
        """:meth:`share`, with when the link was made and whether it replaced another."""
        token = secrets.token_urlsafe(_TOKEN_BYTES)
        digest = _digest(token)
        # Two shares of one conversation at once: the second insert meets the unique
        # conversation_id and retries, then replaces the first's link.
        for attempt in range(2):
            try:
                with self.database.session() as session:
                    return _store(session, user_id, conversation_id, token, digest)
            except IntegrityError:
                if attempt:
                    raise
        return None  # pragma: no cover - the loop returns or raises

    def revoke(self, user_id: int, conversation_id: int) -> bool:
        """End the conversation's link; False when there is none or the conversation is not
        the user's."""
        with self.database.session() as session:
            result = session.execute(
                delete(ConversationShare).where(
                    ConversationShare.conversation_id == conversation_id,
                    ConversationShare.user_id == user_id,
                    ConversationShare.conversation_id.in_(_owned_ids(user_id)),
                )
            )
            return int(getattr(result, "rowcount", 0) or 0) == 1

    def shared(self, user_id: int, conversation_id: int) -> datetime | None:
        """When the conversation's current link was made; None when it has none or is not the
        user's."""
        with self.database.session() as session:
            return session.scalar(
                select(ConversationShare.created_at).where(
                    ConversationShare.conversation_id == conversation_id,
                    ConversationShare.user_id == user_id,
                    ConversationShare.conversation_id.in_(_owned_ids(user_id)),
                )
            )

    def status(self, user_id: int, conversation_id: int) -> ShareState | None:
        """Whether the user's conversation is shared, and since when; None when the
        conversation is missing or not the user's."""
        with self.database.session() as session:
            found = session.execute(
                select(Conversation.id, ConversationShare.created_at)
                .outerjoin(
                    ConversationShare,
                    (ConversationShare.conversation_id == Conversation.id)
                    & (ConversationShare.user_id == user_id),
                )
                .where(Conversation.id == conversation_id, Conversation.user_id == user_id)
            ).first()
        return ShareState(found.created_at) if found is not None else None

    def read(self, token: str) -> SharedConversation | None:
        """The snapshot a link shows; None for a malformed, unknown or revoked token, and
        while the owner's account is disabled.

        The row is found by the token's SHA-256 (an index lookup on a value the caller cannot
        steer byte by byte), then the digests are compared in constant time.
        """
        if not looks_like_share_token(token):
            return None
        digest = _digest(token)
        with self.database.session() as session:
            found = session.execute(
                select(
                    ConversationShare.token_hash,
                    ConversationShare.snapshot,
                    ConversationShare.created_at,
                    AccountRow.display_name,
                )
                .join(AccountRow, AccountRow.id == ConversationShare.user_id)
                .where(ConversationShare.token_hash == digest, AccountRow.is_active.is_(True))
            ).first()
        if found is None or not hmac.compare_digest(found.token_hash, digest):
            return None
        return _shared(found.snapshot, shared_by=found.display_name, shared_at=found.created_at)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _owned_ids(user_id: int) -> Select[int]:
    return select(Conversation.id).where(Conversation.user_id == user_id)


def _store(
    session: Session, user_id: int, conversation_id: int, token: str, digest: str
) -> ShareLink | None:
    conversation = session.scalar(
        select(Conversation).where(
            Conversation.id == conversation_id, Conversation.user_id == user_id
        )
    )
    if conversation is None:
        return None
    messages = session.scalars(
        select(Message).where(Message.conversation_id == conversation.id).order_by(Message.id)
    ).all()
    files = attachment_infos(session, user_id, (m.id for m in messages))
    snapshot = {
        "version": _SNAPSHOT_VERSION,
        "title": conversation.title,
        "messages": [
            {
                "role": m.role,
                "content": m.content,
                "complete": m.complete,
                "error": m.error,
                "created_at": m.created_at.isoformat(),
                "files": [info.filename for info in files.get(m.id, ())],
            }
            for m in messages
        ],
    }
    now = utcnow()
    values = {"token_hash": digest, "snapshot": snapshot, "created_at": now}
    replaced = session.execute(
        update(ConversationShare)
        .where(
            ConversationShare.conversation_id == conversation.id,
            ConversationShare.user_id == user_id,
        )
        .values(**values)
    )
    was_shared = int(getattr(replaced, "rowcount", 0) or 0) == 1
    if not was_shared:
        session.execute(
            insert(ConversationShare).values(
                conversation_id=conversation.id, user_id=user_id, **values
            )
        )
    return ShareLink(token, now, was_shared)


def _shared(snapshot: dict[str, Any], *, shared_by: str, shared_at: datetime) -> SharedConversation:
    messages = tuple(
        SharedMessage(
            role=str(m["role"]),
            content=str(m["content"]),
            complete=bool(m["complete"]),
            error=m["error"] if m.get("error") is None else str(m["error"]),
            created_at=datetime.fromisoformat(m["created_at"]),
            files=tuple(str(name) for name in m.get("files", ())),
        )
        for m in snapshot.get("messages", ())
    )
    return SharedConversation(
        title=str(snapshot.get("title", "")),
        messages=messages,
        shared_by=shared_by,
        shared_at=shared_at,
    )
