"""conversation and message ids are never handed out twice (SQLite AUTOINCREMENT)

Without AUTOINCREMENT, SQLite gives a new row the largest id plus one, so deleting the newest
conversation hands its id, and its messages' ids, to the next ones. A bookmarked ``?c=<id>``
would then open a different conversation, and a reply still streaming into a deleted
conversation could overwrite a newer message that inherited its id. PostgreSQL sequences never
reuse ids, so only SQLite changes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Children first: rebuilding a table drops the old one.
_TABLES = ("messages", "conversations")


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)


def _rebuild(*, autoincrement: bool) -> None:
    connection = op.get_bind()
    if connection.dialect.name != "sqlite":
        return
    if connection.exec_driver_sql("PRAGMA foreign_keys").scalar():
        # Dropping the old conversations table would cascade into every message.
        raise RuntimeError(
            "run this migration on a connection with foreign keys off "
            "(the portal's own `gradio-portal db upgrade` does)"
        )
    for table in _TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass
