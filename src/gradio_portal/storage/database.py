"""The database handle: one engine and session factory per portal."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from gradio_portal._errors import ConfigurationError

__all__ = ["Database", "ensure_sqlite_directory", "redacted_url", "require_driver"]

# The drivers gradio-portal's extras install: DBAPI module -> extra.
_EXTRAS = {"psycopg": "postgres"}


def redacted_url(url: str | URL) -> str:
    """``url`` as it may be printed: the password, if any, replaced by ``***``."""
    return make_url(url).render_as_string(hide_password=True)


def require_driver(url: str | URL) -> None:
    """Raise :class:`ConfigurationError` naming the install command when the driver of
    ``url`` is missing (``postgresql+psycopg://`` without the ``postgres`` extra)."""
    parsed = make_url(url)
    shown = redacted_url(parsed)
    try:
        dialect = parsed.get_dialect()
    except NoSuchModuleError as exc:
        raise ConfigurationError(
            f"GRADIO_PORTAL_DATABASE_URL {shown} names no database SQLAlchemy knows: use "
            "sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST/DATABASE"
        ) from exc
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        driver = parsed.get_driver_name()
        extra = _EXTRAS.get(driver)
        if extra is not None:
            fix = f"run `pip install 'gradio-portal[{extra}]'`"
        elif parsed.get_backend_name() == "postgresql":
            fix = (
                "gradio-portal's driver for PostgreSQL is psycopg 3: write the URL as "
                "postgresql+psycopg://... and run `pip install 'gradio-portal[postgres]'`"
            )
        else:
            fix = f"install the {driver!r} driver ({exc})"
        raise ConfigurationError(
            f"GRADIO_PORTAL_DATABASE_URL {shown} needs the {driver!r} database driver, which is "
            f"not installed: {fix}"
        ) from exc


def ensure_sqlite_directory(url: str) -> None:
    """Create the folder of a SQLite file, so a first start needs no manual step."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


class Database:
    """Owns the SQLAlchemy engine. SQLite gets WAL and foreign keys; other databases a pool."""

    def __init__(self, url: str, *, pool_size: int = 5, max_overflow: int = 10) -> None:
        require_driver(url)
        self.url = make_url(url)
        kwargs: dict[str, Any] = {}
        if self.is_sqlite:
            ensure_sqlite_directory(url)
            # Callbacks run in Gradio's worker threads; each thread gets its own connection.
            # No pre-ping: a connection to a local file does not go stale, and a ping on
            # every checkout was a tenth of a chat turn's database time.
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            # A server restart or failover leaves pooled connections dead: test each checkout.
            kwargs.update(
                pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow, pool_timeout=10
            )
            if self.url.get_backend_name() == "postgresql":
                kwargs["connect_args"] = {"connect_timeout": 5}
        self.engine: Engine = create_engine(self.url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed on success, rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    def ping(self) -> None:
        """Raise if the database does not answer a trivial query."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
