"""One schema on SQLite and PostgreSQL 15: migrations both ways, no drift, safe parallel starts."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from gradio_portal.storage import downgrade, upgrade
from gradio_portal.storage.migrate import alembic_config, modelled
from gradio_portal.storage.models import Base

pytestmark = pytest.mark.scale


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'portal.db'}"
    return str(request.getfixturevalue("fresh_database"))


def drift(url: str) -> list[Any]:
    """What Alembic's autogenerate would change to make the database match the models."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                # The search objects are left out as for autogenerate (storage/migrate.py);
                # tests/integration/test_chat_search.py checks them.
                connection,
                opts={"compare_type": True, "include_name": modelled},
            )
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def current_revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade_leaves_no_drift(database_url: str) -> None:
    model_tables = set(Base.metadata.tables)
    upgrade(database_url)
    assert current_revision(database_url) == head_revision()
    assert model_tables <= tables(database_url)
    assert drift(database_url) == []

    downgrade(database_url, "base")
    assert current_revision(database_url) is None
    assert tables(database_url) & model_tables == set()

    upgrade(database_url)
    assert current_revision(database_url) == head_revision()
    assert drift(database_url) == []


def _upgrade_when_told(url: str, go: Any, results: Any) -> None:
    go.wait(30)
    try:
        upgrade(url)
        results.put("ok")
    except Exception as exc:  # reported to the parent, which fails the test with it
        results.put(f"{type(exc).__name__}: {exc}"[:500])


def test_processes_starting_at_once_on_a_fresh_postgres_all_migrate(fresh_database: str) -> None:
    # Every portal process runs the migrations at start-up (unless migrate=False). Started
    # together on an empty database, they must not race to create the same tables.
    fork = multiprocessing.get_context("fork")
    go, results = fork.Event(), fork.Queue()
    workers = [
        fork.Process(target=_upgrade_when_told, args=(fresh_database, go, results))
        for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    go.set()
    outcomes = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=10)
    assert outcomes == ["ok"] * 4
    assert current_revision(fresh_database) == head_revision()
    assert drift(fresh_database) == []
