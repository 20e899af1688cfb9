"""Full-text search of one user's conversations: their titles and every message in them.

One interface, :class:`ConversationSearch`, with one implementation per database, chosen from
the engine's dialect: SQLite's FTS5 (the ``messages_fts`` and ``conversations_fts`` tables of
migration 0008) and PostgreSQL's full-text search (``to_tsvector('simple', ...)`` over GIN
expression indexes of the same migration). Both answer the same way:

- the text is split into words, at every character that is not a letter, a digit or a
  combining mark (punctuation, spaces, symbols, ``_``); at most :data:`MAX_WORDS` words, each
  cut to :data:`MAX_WORD_CHARS` characters, are used;
- each word matches as the start of a word ("lisb" finds "Lisbon"), ignoring case; accents
  count ("cafe" does not find "café");
- a conversation matches when its title, or any one of its messages, contains every word;
  a reply is searchable once it has ended (complete, or stopped), not while it streams;
- the answer is a :class:`ConversationPage`, like :meth:`ConversationRepository.conversations`:
  the user's matching conversations, most recently active first, and how many match in all;
- a text with no word in it (empty, or only punctuation) matches nothing: an empty page.

Any text is safe to pass: words are letters and digits only, each quoted, so no input is read
as query syntax; NUL, lone surrogates and very long strings are dropped or cut before a query is
built. Every statement names the owner itself (``conversations.user_id = :uid``), like the
repository's.
"""

from __future__ import annotations

import string
import unicodedata
from typing import Any, Protocol

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    column,
    exists,
    func,
    literal_column,
    or_,
    select,
    table,
    union,
)
from sqlalchemy.orm import InstrumentedAttribute

from gradio_portal import ConfigurationError
from gradio_portal.chat.repository import ConversationInfo, ConversationPage
from gradio_portal.storage.database import Database
from gradio_portal.storage.models import Conversation, Message

__all__ = [
    "MAX_WORDS",
    "MAX_WORD_CHARS",
    "ConversationSearch",
    "search_words",
]

MAX_WORDS = 16
"""Words of a search text used at most; the rest are ignored."""
MAX_WORD_CHARS = 200
"""Longer words are cut to this many characters (still matched as the start of a word)."""
_MAX_SCAN_CHARS = (MAX_WORD_CHARS + 1) * MAX_WORDS * 2
"""Characters of a search text read at most: enough for every word kept, far below 10,000."""

# Characters PostgreSQL's parser joins words with (hosts, paths, versions, e-mail addresses,
# hyphenated words, tags) and FTS5 splits at: turned into spaces before PostgreSQL parses, so
# "example.com" is the two words "example" and "com" on both databases. Apostrophe and
# backslash are separators for both already; leaving them out keeps the SQL literal plain.
_PG_JOINERS = "".join(c for c in string.punctuation if c not in "'\\")


def search_words(text: str) -> tuple[str, ...]:
    """The words a search for ``text`` looks for: letters, digits and combining marks only.

    At most :data:`MAX_WORDS` words, each at most :data:`MAX_WORD_CHARS` characters, in NFC.
    Example: ``search_words('"Lisbon" trip, 2024!')`` is ``("Lisbon", "trip", "2024")``.
    """
    text = unicodedata.normalize("NFC", text[:_MAX_SCAN_CHARS])
    words: list[str] = []
    current: list[str] = []
    for char in text + " ":
        category = unicodedata.category(char)
        if category[0] in "LNM" or category == "Co":
            current.append(char)
            continue
        if current:
            word = "".join(current)[:MAX_WORD_CHARS]
            current = []
            # A run of combining marks alone is no word: nothing for a tokenizer to match.
            if any(unicodedata.category(c)[0] != "M" for c in word):
                words.append(word)
                if len(words) == MAX_WORDS:
                    break
    return tuple(words)


class _Dialect(Protocol):
    def matching(self, words: tuple[str, ...]) -> ColumnElement[bool]:
        """The condition on ``conversations`` that its title or one message has every word."""


class ConversationSearch:
    """Search the conversations of one user at a time; see the module's docstring.

    Example::

        search = ConversationSearch(portal.database)
        page = search.search(user.id, "lisbon budget", limit=20, offset=0)
        [info.title for info in page.items]
    """

    def __init__(self, database: Database) -> None:
        self.database = database
        name = database.engine.dialect.name
        if name == "sqlite":
            self._dialect: _Dialect = _SQLiteSearch()
        elif name == "postgresql":
            self._dialect = _PostgresSearch()
        else:
            raise ConfigurationError(
                f"Conversation search supports SQLite and PostgreSQL, not {name!r}: set "
                "GRADIO_PORTAL_DATABASE_URL to a sqlite:/// or postgresql+psycopg:// URL."
            )

    def search(self, user_id: int, text: str, *, limit: int, offset: int = 0) -> ConversationPage:
        """The user's conversations matching ``text``, most recently active first."""
        words = search_words(text)
        if not words or limit < 1:
            return ConversationPage((), 0)
        with self.database.session() as session:
            rows = session.execute(self._statement(user_id, words, limit=limit, offset=offset))
            found = rows.all()
            if found:
                total = int(found[0].total)
            elif offset:
                # Past the last match: no row carried the total, count on its own.
                counted = select(func.count()).select_from(Conversation)
                total = int(session.scalar(counted.where(*self._owned(user_id, words))) or 0)
            else:
                total = 0
        items = tuple(ConversationInfo(r.id, r.title, r.created_at, r.updated_at) for r in found)
        return ConversationPage(items, total)

    def _owned(self, user_id: int, words: tuple[str, ...]) -> tuple[ColumnElement[bool], ...]:
        return (Conversation.user_id == user_id, self._dialect.matching(words))

    def _statement(
        self, user_id: int, words: tuple[str, ...], *, limit: int, offset: int
    ) -> Select[Any]:
        """One page of matches, each row carrying the total.

        The total is an uncorrelated subquery, computed once; the page walks the user's
        conversations newest first through ix_conversations_user_updated and stops at
        ``limit``.
        """
        owned = self._owned(user_id, words)
        total = select(func.count()).select_from(Conversation).where(*owned).scalar_subquery()
        return (
            select(
                Conversation.id,
                Conversation.title,
                Conversation.created_at,
                Conversation.updated_at,
                total.label("total"),
            )
            .where(*owned)
            .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
            .limit(limit)
            .offset(offset)
        )


# -- SQLite: FTS5 ---------------------------------------------------------------------------

_messages_fts = table("messages_fts", column("rowid", Integer), column("messages_fts"))
_conversations_fts = table(
    "conversations_fts", column("rowid", Integer), column("conversations_fts")
)


def fts5_query(words: tuple[str, ...]) -> str:
    """An FTS5 query: every word a quoted prefix phrase (``"lisb"*``), all of them required."""
    return " ".join('"' + word.replace('"', '""') + '"*' for word in words)


class _SQLiteSearch:
    def matching(self, words: tuple[str, ...]) -> ColumnElement[bool]:
        query = fts5_query(words)
        # The index's row id carries the message's conversation (migration 0008): no look-up
        # of the matching messages themselves.
        in_messages: Select[Any] = select(
            literal_column("messages_fts.rowid >> 32").label("id")
        ).where(_messages_fts.c.messages_fts.op("MATCH")(query))
        in_titles = select(_conversations_fts.c.rowid.label("id")).where(
            _conversations_fts.c.conversations_fts.op("MATCH")(query)
        )
        # Every matching conversation id (of any user: the caller scopes), found once per
        # statement: the page and the total both read it.
        matched = union(in_messages, in_titles).cte("matched").prefix_with("MATERIALIZED")
        return Conversation.id.in_(select(matched.c.id))


# -- PostgreSQL: to_tsvector('simple', ...) over GIN expression indexes -----------------------


def _pg_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _pg_document(
    text_column: ColumnElement[str] | InstrumentedAttribute[str],
) -> ColumnElement[Any]:
    """The indexed expression of migration 0008, written identically so the index is used."""
    return func.to_tsvector(
        literal_column("'simple'::regconfig"),
        func.translate(
            text_column,
            literal_column(_pg_literal(_PG_JOINERS)),
            literal_column(_pg_literal(" " * len(_PG_JOINERS))),
        ),
    )


def tsquery(words: tuple[str, ...]) -> str:
    """A ``to_tsquery`` text: every word a quoted prefix (``'lisb':*``), joined by ``&``."""
    return " & ".join("'" + word.replace("'", "''") + "':*" for word in words)


class _PostgresSearch:
    def matching(self, words: tuple[str, ...]) -> ColumnElement[bool]:
        query = func.to_tsquery(literal_column("'simple'::regconfig"), tsquery(words))
        in_message = exists().where(
            Message.conversation_id == Conversation.id,
            _pg_document(Message.content).op("@@")(query),
            # The partial index's condition, written the same: finished messages only.
            or_(Message.complete, Message.error.is_not(None)),
        )
        return or_(_pg_document(Conversation.title).op("@@")(query), in_message)
