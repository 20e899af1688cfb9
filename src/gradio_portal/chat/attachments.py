"""Files attached to chat messages: what the chat accepts, how they are stored, what a model reads.

A file is uploaded before its message is sent (:meth:`AttachmentStore.add`: checked, then stored
*pending*, with no message yet), and taken along by the message in the transaction that stores
it (:meth:`AttachmentStore.claim`). From then on it belongs to the message and its conversation,
and is deleted with them (``ON DELETE CASCADE``). Pending files that are never sent are removed
after a day (:meth:`AttachmentStore.delete_stale`, run now and then by ``add``).

Two kinds of file are accepted:

- **images**: PNG, JPEG, GIF and WebP, recognised by their first bytes whatever their name
  (an HTML page called ``photo.png`` is not an image; SVG, which is a document that can carry
  scripts, never is). Their bytes are stored; a model that reads images gets them as image
  parts (:func:`image_parts`).
- **text and code files**, by extension (or whole name, such as ``Dockerfile``) from
  ``chat_attachment_text_types``: they must be UTF-8 (a byte-order mark is dropped) without NUL.
  Their decoded text is stored, and the model reads it inside the message
  (:func:`model_text`); their bytes are not stored twice (a download is the text, as UTF-8).

Every read and write names the owner in its ``WHERE`` clause: another user's attachment is
missing, exactly as one that does not exist. Refusals are :class:`~gradio_portal.MessageRejected`
with a text that says what to do.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from gradio_portal import MessageRejected, PortalSettings
from gradio_portal.chat.backends.base import ImagePart
from gradio_portal.settings import DEFAULT_TEXT_TYPES
from gradio_portal.storage.database import Database
from gradio_portal.storage.models import Attachment, Conversation, Message, utcnow

__all__ = [
    "IMAGE_TYPES",
    "MAX_FILENAME_CHARS",
    "STALE_AFTER",
    "TRUNCATED",
    "AttachmentInfo",
    "AttachmentStore",
    "CheckedFile",
    "Kind",
    "StoredAttachment",
    "attachment_infos",
    "clean_filename",
    "describe_size",
    "image_parts",
    "image_type",
    "model_text",
]

Kind = Literal["text", "image"]

IMAGE_TYPES: tuple[str, ...] = ("image/png", "image/jpeg", "image/gif", "image/webp")
"""The images the chat accepts, recognised by their first bytes (never by name)."""

MAX_FILENAME_CHARS = 200
"""Longer names are cut (keeping the extension); the column holds 255 characters."""

STALE_AFTER = timedelta(days=1)
"""A pending attachment (uploaded, never sent) older than this is removed."""

TRUNCATED = "[… cut: the file is longer than the history budget]"
"""The line :func:`model_text` puts where it cut a file's text."""

# How often `add` looks for stale attachments, at most (seconds, per store).
_CLEANUP_EVERY = 600.0
# Pending attachments one user may have at once, as a multiple of the per-message limit.
_PENDING_FACTOR = 4
_MAX_EXTENSION_CHARS = 20

_TEXT_MEDIA_TYPES = {
    "md": "text/markdown",
    "markdown": "text/markdown",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "json": "application/json",
    "jsonl": "application/jsonl",
    "ndjson": "application/x-ndjson",
    "ipynb": "application/x-ipynb+json",
    "html": "text/html",
    "htm": "text/html",
    "css": "text/css",
    "js": "text/javascript",
    "mjs": "text/javascript",
    "cjs": "text/javascript",
    "xml": "application/xml",
    "yaml": "application/yaml",
    "yml": "application/yaml",
    "toml": "application/toml",
    "sql": "application/sql",
    "py": "text/x-python",
    "sh": "application/x-sh",
}
_IMAGE_NAMES = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/gif": "GIF",
    "image/webp": "WebP",
}
_IMAGE_EXTENSIONS = frozenset({"png", "jpg", "jpeg", "jpe", "gif", "webp", "svg", "svgz"})
# Characters that change how the rest of a name displays (bidirectional controls): a name
# "report\u202egnp.exe" would show as "reportexe.png".
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SURROGATES = re.compile("[\ud800-\udfff]")
# The columns of an AttachmentInfo, in its order.
_INFO_COLUMNS = (
    Attachment.id,
    Attachment.filename,
    Attachment.media_type,
    Attachment.kind,
    Attachment.size,
    Attachment.created_at,
)


@dataclass(frozen=True, slots=True)
class AttachmentInfo:
    """An attachment without its contents: what a page or the API shows of it."""

    id: int
    filename: str
    media_type: str
    kind: Kind
    size: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StoredAttachment:
    """An attachment with its contents: ``text`` for a text file, ``data`` for an image.

    ``message_id`` is None while the attachment is pending (not sent yet).
    """

    id: int
    message_id: int | None
    filename: str
    media_type: str
    kind: Kind
    size: int
    created_at: datetime
    text: str | None
    data: bytes

    @property
    def info(self) -> AttachmentInfo:
        return AttachmentInfo(
            self.id, self.filename, self.media_type, self.kind, self.size, self.created_at
        )

    @property
    def content(self) -> bytes:
        """The file as it is downloaded: an image's bytes, a text file's text as UTF-8."""
        return self.data if self.kind == "image" else (self.text or "").encode("utf-8")


@dataclass(frozen=True, slots=True)
class CheckedFile:
    """A file that passed :meth:`AttachmentStore.check`, ready to store."""

    filename: str
    media_type: str
    kind: Kind
    size: int
    text: str | None
    data: bytes


def image_type(data: bytes) -> str | None:
    """The media type of an accepted image, by its first bytes; None for anything else.

    >>> image_type(b"\\x89PNG\\r\\n\\x1a\\n...")
    'image/png'
    >>> image_type(b"<svg xmlns='http://www.w3.org/2000/svg'/>") is None
    True
    """
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(data) >= 12 and data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def clean_filename(raw: str) -> str:
    """A file name safe to store and show: no folders, no control characters, not too long.

    Only the part after the last ``/`` or ``\\`` is kept; control and bidirectional
    formatting characters become spaces, runs of spaces one, and the name is cut to
    :data:`MAX_FILENAME_CHARS` with its extension kept. A name with nothing left becomes
    ``file``.

    >>> clean_filename("../../etc/passwd")
    'passwd'
    >>> clean_filename("a\\r\\nb.txt")
    'a b.txt'
    """
    name = _SURROGATES.sub("\ufffd", raw)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(" " if unicodedata.category(c) == "Cc" else c for c in _BIDI.sub(" ", name))
    name = " ".join(name.split())
    if not name.strip("."):
        return "file"
    if len(name) > MAX_FILENAME_CHARS:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and len(extension) <= _MAX_EXTENSION_CHARS:
            keep = MAX_FILENAME_CHARS - len(extension) - 1
            name = f"{stem[:keep].rstrip()}.{extension}"
        else:
            name = name[:MAX_FILENAME_CHARS].rstrip()
    return name


def describe_size(size: int) -> str:
    """A size as people read it: ``512 bytes``, ``12.3 KB``, ``5 MB`` (units of 1024).

    >>> describe_size(5 * 1024 * 1024), describe_size(12_900_000)
    ('5 MB', '12.3 MB')
    """
    if size < 1024:
        return f"{size} bytes" if size != 1 else "1 byte"
    for unit, scale in (("KB", 1024), ("MB", 1024**2), ("GB", 1024**3)):
        if size < scale * 1024 or unit == "GB":
            shown = f"{size / scale:.1f}".removesuffix(".0")
            return f"{shown} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def _extension(filename: str) -> str:
    stem, dot, extension = filename.rpartition(".")
    return extension.lower() if dot and stem else ""


def _text_types(types: Iterable[str]) -> frozenset[str]:
    return frozenset(t.strip().lower().lstrip(".") for t in types if t.strip().strip("."))


class AttachmentStore:
    """Checks, stores and reads the files users attach to chat messages (synchronous).

    ``max_bytes`` bounds one file, ``max_files`` the files of one message, ``text_types`` the
    text and code files accepted (extensions, or whole names such as ``dockerfile``). A user
    may also hold at most ``max_pending`` files uploaded but not sent (by default four
    messages' worth).

    Example::

        store = AttachmentStore.from_settings(portal.database, portal.settings)
        info = store.add(user.id, "notes.md", b"# Notes")
        # inside the transaction that stores the message:
        store.claim(session, user.id, [info.id], conversation_id, message_id)
    """

    def __init__(
        self,
        database: Database,
        *,
        max_bytes: int = 5 * 1024 * 1024,
        max_files: int = 5,
        text_types: Iterable[str] = DEFAULT_TEXT_TYPES,
        max_pending: int | None = None,
        stale_after: timedelta = STALE_AFTER,
    ) -> None:
        if max_bytes <= 0 or max_files <= 0:
            raise ValueError("max_bytes and max_files must be more than 0")
        self.database = database
        self.max_bytes = max_bytes
        self.max_files = max_files
        self.text_types = _text_types(text_types)
        self.max_pending = max_pending if max_pending is not None else max_files * _PENDING_FACTOR
        self.stale_after = stale_after
        self._cleaned_at: float | None = None

    @classmethod
    def from_settings(cls, database: Database, settings: PortalSettings) -> AttachmentStore:
        """A store limited by the ``chat_attachment_*`` settings."""
        return cls(
            database,
            max_bytes=settings.chat_attachment_max_bytes,
            max_files=settings.chat_attachment_max_files,
            text_types=settings.chat_attachment_text_types,
        )

    # -- checking -----------------------------------------------------------------------------

    def kind(self, filename: str, data: bytes) -> Kind | None:
        """What ``data`` would be stored as: an image (by its bytes), text (by its name), or
        None when it is neither, whatever its size or encoding."""
        if image_type(data) is not None:
            return "image"
        name = clean_filename(filename)
        if _extension(name) in self.text_types or name.lower() in self.text_types:
            return "text"
        return None

    def accepted_types(self) -> str:
        """The accepted types, for a sentence: ``text or code files (.txt, .md, ...) or ...``."""
        examples = [t for t in ("txt", "md", "csv", "json", "py") if t in self.text_types]
        shown = ", ".join(f".{t}" for t in examples)
        text = f"text or code files ({shown}, ...)" if shown else "text or code files"
        if not self.text_types:
            return "images (PNG, JPEG, GIF, WebP)"
        return f"{text} or images (PNG, JPEG, GIF, WebP)"

    def too_large(self, filename: str, size: int | None = None) -> MessageRejected:
        """The refusal of a file over ``max_bytes`` (``size`` None: its size is not known)."""
        name = clean_filename(filename) if filename else "The file"
        limit = describe_size(self.max_bytes)
        if size is None:
            said = f"{name} is larger than the limit of {limit}"
        else:
            said = f"{name} is {describe_size(size)}; the limit is {limit}"
        return MessageRejected(
            f"{said} per file. Attach a smaller file, or send the part that matters as text."
        )

    def check(self, filename: str, data: bytes) -> CheckedFile:
        """``data`` as it would be stored, or :class:`MessageRejected` saying what to do."""
        name = clean_filename(filename)
        if len(data) > self.max_bytes:
            raise self.too_large(name, len(data))
        if not data:
            raise MessageRejected(f"{name} is empty: there is nothing in it to attach.")
        media_type = image_type(data)
        if media_type is not None:
            return CheckedFile(name, media_type, "image", len(data), None, data)
        extension = _extension(name)
        if extension in _IMAGE_EXTENSIONS and extension not in self.text_types:
            raise MessageRejected(
                f"{name} is not a PNG, JPEG, GIF or WebP image (its contents say otherwise; SVG "
                f"is not accepted): attach {self.accepted_types()}."
            )
        if extension not in self.text_types and name.lower() not in self.text_types:
            raise MessageRejected(
                f"{name} is not a type the chat reads: attach {self.accepted_types()}."
            )
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise MessageRejected(
                f"{name} is not UTF-8 text: the chat reads text files in UTF-8. Save it as "
                "UTF-8 (most editors offer it under “Save as”) and attach it again."
            ) from None
        if "\x00" in text:
            raise MessageRejected(
                f"{name} contains NUL characters, so it is not a text file the chat can read: "
                "attach a text or code file, or an image."
            )
        media_type = _TEXT_MEDIA_TYPES.get(extension, "text/plain")
        return CheckedFile(name, media_type, "text", len(data), text, b"")

    # -- writing ------------------------------------------------------------------------------

    def add(self, user_id: int, filename: str, data: bytes) -> AttachmentInfo:
        """Check and store a file the user will send with a message (pending until then).

        Raises :class:`MessageRejected` for a file the chat does not take, or when the user
        already holds ``max_pending`` files not sent.
        """
        checked = self.check(filename, data)
        now = utcnow()
        with self.database.session() as session:
            self._clean_now_and_then(session, now)
            pending = session.scalar(
                select(func.count())
                .select_from(Attachment)
                .where(Attachment.user_id == user_id, Attachment.message_id.is_(None))
            )
            if int(pending or 0) >= self.max_pending:
                raise MessageRejected(
                    f"You have {self.max_pending} files waiting to be sent: send them with a "
                    "message, or remove some, before attaching more."
                )
            attachment_id = session.scalar(
                insert(Attachment)
                .values(
                    user_id=user_id,
                    conversation_id=None,
                    message_id=None,
                    filename=checked.filename,
                    media_type=checked.media_type,
                    kind=checked.kind,
                    size=checked.size,
                    text=checked.text,
                    data=checked.data,
                    created_at=now,
                )
                .returning(Attachment.id)
            )
        if attachment_id is None:  # pragma: no cover - RETURNING always answers for an INSERT
            raise RuntimeError("the database did not return the new attachment's id")
        return AttachmentInfo(
            attachment_id, checked.filename, checked.media_type, checked.kind, checked.size, now
        )

    def claim(
        self,
        session: Session,
        user_id: int,
        attachment_ids: Sequence[int],
        conversation_id: int,
        message_id: int,
    ) -> tuple[AttachmentInfo, ...]:
        """Give the user's pending attachments to a message just stored, in ``session``.

        Run inside the transaction that stores the message: a refusal raises
        :class:`MessageRejected`, and the transaction (message included) is rolled back.
        Refused: more than ``max_files`` ids, and any id that is not one of the user's pending
        attachments (unknown, another user's, removed, or already sent: all alike), or a
        message that is not in one of the user's conversations. Repeated ids count once. The
        claimed attachments are returned in the order of ``attachment_ids``.
        """
        ids = list(dict.fromkeys(attachment_ids))
        if not ids:
            return ()
        if len(ids) > self.max_files:
            raise MessageRejected(
                f"A message can carry {self.max_files} files at most, and this one has "
                f"{len(ids)}: remove some, or send them with another message."
            )
        owned_message = (
            select(Message.id)
            .join(Conversation, Message.conversation_id == Conversation.id)
            .where(
                Message.id == message_id,
                Conversation.id == conversation_id,
                Conversation.user_id == user_id,
            )
        )
        rows = session.execute(
            update(Attachment)
            .where(
                Attachment.id.in_(ids),
                Attachment.user_id == user_id,
                Attachment.message_id.is_(None),
                Attachment.conversation_id.is_(None),
                owned_message.exists(),
            )
            .values(conversation_id=conversation_id, message_id=message_id)
            .returning(*_INFO_COLUMNS)
            .execution_options(synchronize_session=False)
        ).all()
        if len(rows) != len(ids):
            missing = len(ids) - len(rows)
            which = "One of the attached files is" if missing == 1 else f"{missing} files are"
            raise MessageRejected(
                f"{which} no longer available (removed, or already sent with another "
                "message). Attach it again, then send."
            )
        found = {row.id: _info(*row) for row in rows}
        return tuple(found[i] for i in ids)

    def delete(self, user_id: int, attachment_id: int) -> Literal["deleted", "sent", "missing"]:
        """Remove one of the user's pending attachments.

        ``"sent"``: it belongs to a message now and goes only with its conversation;
        ``"missing"``: there is no such attachment of the user's.
        """
        with self.database.session() as session:
            result = session.execute(
                delete(Attachment).where(
                    Attachment.id == attachment_id,
                    Attachment.user_id == user_id,
                    Attachment.message_id.is_(None),
                )
            )
            if _rowcount(result) == 1:
                return "deleted"
            sent = session.scalar(
                select(Attachment.id).where(
                    Attachment.id == attachment_id, Attachment.user_id == user_id
                )
            )
            return "sent" if sent is not None else "missing"

    def delete_stale(self, older_than: timedelta | None = None) -> int:
        """Remove pending attachments uploaded more than ``older_than`` ago (by default
        ``stale_after``); how many were removed. Sent attachments are never touched."""
        with self.database.session() as session:
            age = self.stale_after if older_than is None else older_than
            return self._delete_stale(session, utcnow(), age)

    # -- reading ------------------------------------------------------------------------------

    def get(self, user_id: int, attachment_id: int) -> StoredAttachment | None:
        """The user's attachment with its contents (pending or sent); None when not theirs."""
        with self.database.session() as session:
            row = session.scalar(
                select(Attachment).where(
                    Attachment.id == attachment_id, Attachment.user_id == user_id
                )
            )
            return _stored(row) if row is not None else None

    def pending(self, user_id: int) -> tuple[AttachmentInfo, ...]:
        """The user's attachments not sent yet, oldest first."""
        with self.database.session() as session:
            rows = session.execute(
                select(*_INFO_COLUMNS)
                .where(Attachment.user_id == user_id, Attachment.message_id.is_(None))
                .order_by(Attachment.id)
            ).all()
            return tuple(_info(*row) for row in rows)

    def for_messages(
        self, user_id: int, message_ids: Iterable[int], *, session: Session | None = None
    ) -> dict[int, tuple[StoredAttachment, ...]]:
        """The attachments of the user's messages, with contents: message id -> attachments
        in the order they were uploaded. Messages without attachments are left out.

        Pass ``session`` to read inside a transaction of your own (say, the one that stores a
        turn); otherwise the store opens one.
        """
        ids = sorted(set(message_ids))
        if not ids:
            return {}
        query = (
            select(Attachment)
            .where(Attachment.user_id == user_id, Attachment.message_id.in_(ids))
            .order_by(Attachment.message_id, Attachment.id)
        )

        def read(s: Session) -> dict[int, tuple[StoredAttachment, ...]]:
            grouped: dict[int, list[StoredAttachment]] = {}
            for row in s.scalars(query):
                grouped.setdefault(int(row.message_id or 0), []).append(_stored(row))
            return {key: tuple(value) for key, value in grouped.items()}

        if session is not None:
            return read(session)
        with self.database.session() as own:
            return read(own)

    def infos_for_messages(
        self, user_id: int, message_ids: Iterable[int], *, session: Session | None = None
    ) -> dict[int, tuple[AttachmentInfo, ...]]:
        """Like :meth:`for_messages` without the contents: what a page lists under messages."""
        if session is not None:
            return attachment_infos(session, user_id, message_ids)
        with self.database.session() as own:
            return attachment_infos(own, user_id, message_ids)

    # -- housekeeping -------------------------------------------------------------------------

    def _clean_now_and_then(self, session: Session, now: datetime) -> None:
        clock = time.monotonic()
        if self._cleaned_at is not None and clock - self._cleaned_at < _CLEANUP_EVERY:
            return
        self._cleaned_at = clock
        self._delete_stale(session, now, self.stale_after)

    def _delete_stale(self, session: Session, now: datetime, older_than: timedelta) -> int:
        result = session.execute(
            delete(Attachment).where(
                Attachment.message_id.is_(None), Attachment.created_at < now - older_than
            )
        )
        return _rowcount(result)


def attachment_infos(
    session: Session, user_id: int, message_ids: Iterable[int]
) -> dict[int, tuple[AttachmentInfo, ...]]:
    """The attachments of the user's messages, without contents, read in ``session``: message
    id -> attachments in the order they were uploaded (messages without any left out)."""
    ids = sorted(set(message_ids))
    if not ids:
        return {}
    query = (
        select(*_INFO_COLUMNS, Attachment.message_id)
        .where(Attachment.user_id == user_id, Attachment.message_id.in_(ids))
        .order_by(Attachment.message_id, Attachment.id)
    )
    grouped: dict[int, list[AttachmentInfo]] = {}
    for a_id, filename, media_type, kind, size, created, message_id in session.execute(query):
        info = _info(a_id, filename, media_type, kind, size, created)
        grouped.setdefault(int(message_id or 0), []).append(info)
    return {key: tuple(value) for key, value in grouped.items()}


def model_text(
    message: str,
    attachments: Sequence[StoredAttachment],
    *,
    budget_chars: int | None = None,
) -> str:
    """The user message as the model reads it: the typed text, then each attached file.

    A text file follows as ``[File: name]`` and its text in a code fence (longer than any
    backtick run inside it); an image is only named (``[Image: name]``): its bytes go to the
    model as image parts (:func:`image_parts`), not as text. With ``budget_chars`` the files'
    texts are cut, in order, so that the whole result fits it: a cut file ends with the
    :data:`TRUNCATED` line. The typed text and the files' names are always kept, so the
    result exceeds the budget only when they alone do.

    Example: the message "Summarise" with a file notes.md reads::

        Summarise

        [File: notes.md]
        ```
        Line one
        ```
    """
    if not attachments:
        return message
    frames: list[tuple[str, str, str]] = []  # (before the text, the text, after it)
    for item in attachments:
        if item.kind != "text":
            frames.append((f"[Image: {item.filename}]", "", ""))
            continue
        text = item.text or ""
        fence = "`" * max(3, _longest_backtick_run(text) + 1)
        frames.append((f"[File: {item.filename}]\n{fence}\n", text, f"\n{fence}"))
    separator = "\n\n"
    fixed = len(message) + sum(len(separator) + len(head) + len(tail) for head, _, tail in frames)
    cut_marker = f"\n{TRUNCATED}"
    texts = sum(1 for _, text, _ in frames if text)
    room = None if budget_chars is None else budget_chars - fixed - texts * len(cut_marker)
    if room is not None:
        room = max(0, room)
    parts = [message] if message else []
    for head, text, tail in frames:
        if text and room is not None and len(text) > room:
            kept = _cut(text, room)
            room = 0
            body = f"{kept}{cut_marker}" if kept else TRUNCATED
        else:
            body = text
            if room is not None:
                room -= len(text)
        parts.append(f"{head}{body}{tail}")
    return separator.join(parts)


def image_parts(attachments: Iterable[StoredAttachment]) -> tuple[ImagePart, ...]:
    """The attached images as the backend takes them (``ChatMessage.images``,
    ``ChatRequest.images``), in order."""
    return tuple(ImagePart(a.media_type, a.data) for a in attachments if a.kind == "image")


def _cut(text: str, room: int) -> str:
    """``text`` cut to at most ``room`` characters, at a line end when one is near."""
    if room <= 0:
        return ""
    kept = text[:room]
    newline = kept.rfind("\n")
    if newline >= room // 2:
        kept = kept[:newline]
    return kept.rstrip("\n")


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in re.findall("`+", text)), default=0)


def _kind(stored: str) -> Kind:
    return "image" if stored == "image" else "text"


def _info(
    attachment_id: int, filename: str, media_type: str, kind: str, size: int, created: datetime
) -> AttachmentInfo:
    return AttachmentInfo(attachment_id, filename, media_type, _kind(kind), size, created)


def _stored(row: Attachment) -> StoredAttachment:
    return StoredAttachment(
        id=row.id,
        message_id=row.message_id,
        filename=row.filename,
        media_type=row.media_type,
        kind=_kind(row.kind),
        size=row.size,
        created_at=row.created_at,
        text=row.text,
        data=row.data,
    )


def _rowcount(result: object) -> int:
    count = getattr(result, "rowcount", 0)
    return int(count) if isinstance(count, int) else 0
