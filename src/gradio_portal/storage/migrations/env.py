"""Alembic environment for gradio-portal's packaged migrations."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool, text

from gradio_portal.storage.migrate import modelled
from gradio_portal.storage.models import Base

config = context.config
target_metadata = Base.metadata

# Any fixed 64-bit number: the key of the PostgreSQL advisory lock that serialises migrations.
_MIGRATION_LOCK = 0x67726164696F  # "gradio"


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        # Batch mode lets ALTER-style migrations work on SQLite too.
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            include_name=modelled,
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # Several portal processes starting at once on a fresh database would all
                # create the tables and all but one fail; the lock (released at commit)
                # makes the others wait, then find the schema at head.
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK}
                )
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
