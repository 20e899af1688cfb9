"""Run the Alembic migrations that ship inside the package."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool

from gradio_portal.storage.database import ensure_sqlite_directory, require_driver

__all__ = [
    "SEARCH_OBJECTS",
    "alembic_config",
    "current_revision",
    "downgrade",
    "head_revision",
    "modelled",
    "pending_revisions",
    "upgrade",
]

# Full-text search (migration 0008, chat/search.py) is built from objects the SQLAlchemy models
# cannot describe: on SQLite, FTS5 virtual tables and the shadow tables FTS5 keeps for them
# (their triggers are not compared); on PostgreSQL, a GIN index over an expression.
# Autogenerate (a new migration, the schema drift test) leaves them out by name, or it would
# drop them.
SEARCH_OBJECTS = frozenset(
    f"{table}{suffix}"
    for table in ("messages_fts", "conversations_fts")
    for suffix in ("", "_data", "_idx", "_docsize", "_config", "_content")
) | {"ix_messages_content_search"}


def modelled(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's ``include_name``: False for the search objects the models do not describe."""
    return name not in SEARCH_OBJECTS


def alembic_config(database_url: str) -> Config:
    """An Alembic configuration pointing at the packaged migrations and ``database_url``."""
    config = Config()
    config.set_main_option("script_location", "gradio_portal.storage:migrations")
    # ConfigParser interpolation would choke on '%' in passwords.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The revision of the newest schema this gradio-portal ships."""
    head = _scripts().get_current_head()
    assert head is not None, "the packaged migrations have one head"
    return head


def current_revision(database_url: str) -> str | None:
    """The schema revision ``database_url`` is at; None for a database without one (empty)."""
    require_driver(database_url)
    ensure_sqlite_directory(database_url)
    engine = create_engine(database_url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def pending_revisions(current: str | None) -> list[str]:
    """The revisions an upgrade from ``current`` (None: empty) to the head applies, in order."""
    scripts = _scripts().iterate_revisions("head", current or "base")
    return [script.revision for script in reversed(list(scripts))]


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the schema of ``database_url`` up to ``revision``."""
    require_driver(database_url)
    ensure_sqlite_directory(database_url)
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    """Take the schema of ``database_url`` down to ``revision``."""
    require_driver(database_url)
    command.downgrade(alembic_config(database_url), revision)


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite://"))
