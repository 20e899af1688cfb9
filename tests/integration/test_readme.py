"""The README's library example is docs/examples/readme_app.py, and it works as written."""

from __future__ import annotations

import importlib
import re
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import PASSWORD

from gradio_portal.testing import GradioEvents, LiveServer, login

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_shows_the_example_file() -> None:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## As a library\n\n```python\n(.*?)```", readme, re.S)
    assert block is not None
    assert block.group(1) in (ROOT / "docs/examples/readme_app.py").read_text()


def test_the_readme_example_registers_without_warnings_and_greets_the_user(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    serve: Callable[[Any], LiveServer],
    client_for: Callable[[LiveServer], httpx.Client],
) -> None:
    monkeypatch.setenv("GRADIO_PORTAL_DATA_DIR", str(tmp_path / "data"))
    sys.modules.pop("docs.examples.readme_app", None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module("docs.examples.readme_app")
    sys.modules.pop("docs.examples.readme_app", None)
    # Gradio warns "Expected 1 arguments for function ..., received 0" for an input it thinks
    # is missing; a Context parameter is not one.
    assert [str(w.message) for w in caught if "argument" in str(w.message)] == []

    module.portal.accounts.create("alice", PASSWORD, display_name="Alice Liddell")
    client = client_for(serve(module.app))
    assert login(client, "alice", PASSWORD).status_code == 303
    events = GradioEvents(client, "/app")
    greet = next(d["id"] for d in events.config["dependencies"] if d["targets"][0][1] == "load")
    assert events.call(greet, []).output == ["Hello, Alice Liddell (visit 1)"]
    assert events.call(greet, []).output == ["Hello, Alice Liddell (visit 2)"]
