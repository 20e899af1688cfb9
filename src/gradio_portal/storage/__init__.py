"""Durable storage: SQLAlchemy models, the database handle and Alembic migrations."""

from __future__ import annotations

from gradio_portal.storage.database import Database
from gradio_portal.storage.migrate import downgrade, upgrade

__all__ = ["Database", "downgrade", "upgrade"]
