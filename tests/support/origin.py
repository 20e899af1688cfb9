"""The integration note's example app (docs/examples/origin_note.py), loaded fresh for a test."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import pytest
from tests.conftest import PASSWORD

MODULE = "docs.examples.origin_note"


@contextmanager
def origin_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The example module with its portal on the test's data directory, and alice in it."""
    monkeypatch.setenv("GRADIO_PORTAL_DATA_DIR", str(tmp_path / "data"))
    sys.modules.pop(MODULE, None)
    module = importlib.import_module(MODULE)
    module.portal.accounts.create("alice", PASSWORD)
    try:
        yield module
    finally:
        sys.modules.pop(MODULE, None)
