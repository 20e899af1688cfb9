"""full-text search of conversations: FTS5 tables on SQLite, GIN indexes on PostgreSQL

SQLite: two FTS5 tables, ``messages_fts`` over ``messages.content`` and ``conversations_fts``
over ``conversations.title`` (rowid = the row's id; the text is not stored twice), kept in step
by triggers, and filled from the existing rows. Deletions reach the index however they happen,
``ON DELETE CASCADE`` included (SQLite fires the child table's triggers for cascaded deletes).

Only finished messages are indexed: user messages, and replies once they end (complete, or
stopped with an error). A streaming reply's text is written about once a second; indexing each
of those writes would cost every streaming reply a re-index per second, for text nobody
searches before it ends. So ``messages_fts`` is contentless (``content=''``, an index of row
ids only), and its triggers add a message when it is stored finished or becomes finished, and
remove it (with the text it was indexed with) when it is deleted or its finished text changes
(an edit).

Its row id names the conversation and the message: ``conversation_id << 32 | (id & 0xFFFFFFFF)``,
so a search reads the matching conversations from the index alone, without looking up each
matching message (a common word matches most messages: those look-ups were most of the time).
Two messages of one conversation would share a row id only if their ids were 2^32 apart.

PostgreSQL: a partial GIN expression index over ``to_tsvector('simple', ...)`` of
``messages.content``, of finished messages only (as on SQLite); ``chat/search.py`` queries with
the identical expression and condition, so the planner uses it. Titles are matched among the
user's own conversations, without an index.

These objects are not in the SQLAlchemy models (Alembic cannot describe them): the schema
drift test leaves them out by name (tests/scale/test_scale_storage.py).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import string

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Case-folded, diacritics kept: the same words match as PostgreSQL's 'simple' configuration.
_TOKENIZE = "unicode61 remove_diacritics 0"
# Prefix indexes for words of 1 to 3 characters: a short prefix ("t", "th", "the") matches
# thousands of terms, which FTS5 would otherwise merge at every query (4x slower for "the"
# on 200,000 messages, and a short word in a query costs as much however rare the others
# are). Longer prefixes match few terms and need none. The index is about three times larger.
_PREFIXES = "1 2 3"
# A message the index holds: a user message, or a reply that ended (complete, or stopped with
# an error). chat/search.py's PostgreSQL query repeats it for the partial index.
_FINISHED = "({row}.complete OR {row}.error IS NOT NULL)"
# The index's row id of a message: its conversation in the high 32 bits (chat/search.py reads
# the conversation back with ``rowid >> 32``).
_ROWID = "(({row}.conversation_id << 32) | ({row}.id & 4294967295))"

_SQLITE_UPGRADE = (
    f"""
    CREATE VIRTUAL TABLE messages_fts USING fts5(
        content, content='', tokenize='{_TOKENIZE}', prefix='{_PREFIXES}'
    )
    """,
    f"""
    CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN {_FINISHED.format(row="new")}
    BEGIN
        INSERT INTO messages_fts(rowid, content) VALUES ({_ROWID.format(row="new")}, new.content);
    END
    """,
    f"""
    CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN {_FINISHED.format(row="old")}
    BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, content)
        VALUES ('delete', {_ROWID.format(row="old")}, old.content);
    END
    """,
    # One trigger for both steps, so the old entry always goes before the new one comes.
    f"""
    CREATE TRIGGER messages_fts_update AFTER UPDATE OF content, complete, error ON messages
    WHEN ({_FINISHED.format(row="old")} OR {_FINISHED.format(row="new")})
    AND NOT ({_FINISHED.format(row="old")} AND {_FINISHED.format(row="new")}
             AND old.content IS new.content)
    BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, content)
        SELECT 'delete', {_ROWID.format(row="old")}, old.content
        WHERE {_FINISHED.format(row="old")};
        INSERT INTO messages_fts(rowid, content)
        SELECT {_ROWID.format(row="new")}, new.content WHERE {_FINISHED.format(row="new")};
    END
    """,
    f"""
    INSERT INTO messages_fts(rowid, content)
    SELECT {_ROWID.format(row="messages")}, content FROM messages
    WHERE {_FINISHED.format(row="messages")}
    """,
    f"""
    CREATE VIRTUAL TABLE conversations_fts USING fts5(
        title, content='conversations', content_rowid='id', tokenize='{_TOKENIZE}',
        prefix='{_PREFIXES}'
    )
    """,
    """
    CREATE TRIGGER conversations_fts_insert AFTER INSERT ON conversations BEGIN
        INSERT INTO conversations_fts(rowid, title) VALUES (new.id, new.title);
    END
    """,
    """
    CREATE TRIGGER conversations_fts_delete AFTER DELETE ON conversations BEGIN
        INSERT INTO conversations_fts(conversations_fts, rowid, title)
        VALUES ('delete', old.id, old.title);
    END
    """,
    """
    CREATE TRIGGER conversations_fts_update AFTER UPDATE OF title ON conversations
    WHEN old.title IS NOT new.title BEGIN
        INSERT INTO conversations_fts(conversations_fts, rowid, title)
        VALUES ('delete', old.id, old.title);
        INSERT INTO conversations_fts(rowid, title) VALUES (new.id, new.title);
    END
    """,
    "INSERT INTO conversations_fts(conversations_fts) VALUES ('rebuild')",
)

_SQLITE_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS conversations_fts_update",
    "DROP TRIGGER IF EXISTS conversations_fts_delete",
    "DROP TRIGGER IF EXISTS conversations_fts_insert",
    "DROP TABLE IF EXISTS conversations_fts",
    "DROP TRIGGER IF EXISTS messages_fts_update",
    "DROP TRIGGER IF EXISTS messages_fts_delete",
    "DROP TRIGGER IF EXISTS messages_fts_insert",
    "DROP TABLE IF EXISTS messages_fts",
)

# ASCII punctuation but ' and \ become spaces before PostgreSQL's parser reads the text, so
# it splits "example.com", "3.11" or "e-mail" into words as FTS5 does. The query in
# chat/search.py repeats this expression exactly: the planner uses an expression index only
# for the same expression.
_PG_JOINERS = "".join(c for c in string.punctuation if c not in "'\\")
_PG_DOCUMENT = (
    "to_tsvector('simple'::regconfig, translate({column}, '"
    + _PG_JOINERS.replace("'", "''")
    + "', '"
    + " " * len(_PG_JOINERS)
    + "'))"
)

# Titles are matched row by row among the user's conversations (found through
# ix_conversations_user_updated), short texts that need no index of their own.
_POSTGRES_UPGRADE = (
    "CREATE INDEX ix_messages_content_search ON messages USING gin ("
    + _PG_DOCUMENT.replace("{column}", "content")
    + ") WHERE (complete OR error IS NOT NULL)",
)

_POSTGRES_DOWNGRADE = ("DROP INDEX IF EXISTS ix_messages_content_search",)


def _run(statements: tuple[str, ...]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(_SQLITE_UPGRADE)
    elif dialect == "postgresql":
        _run(_POSTGRES_UPGRADE)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(_SQLITE_DOWNGRADE)
    elif dialect == "postgresql":
        _run(_POSTGRES_DOWNGRADE)
