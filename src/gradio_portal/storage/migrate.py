"""Run the Alembic migrations that ship inside the package."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from gradio_portal.storage.database import ensure_sqlite_directory

__all__ = ["alembic_config", "downgrade", "upgrade"]


def alembic_config(database_url: str) -> Config:
    """An Alembic configuration pointing at the packaged migrations and ``database_url``."""
    config = Config()
    config.set_main_option("script_location", "gradio_portal.storage:migrations")
    # ConfigParser interpolation would choke on '%' in passwords.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the schema of ``database_url`` up to ``revision``."""
    ensure_sqlite_directory(database_url)
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    """Take the schema of ``database_url`` down to ``revision``."""
    command.downgrade(alembic_config(database_url), revision)
