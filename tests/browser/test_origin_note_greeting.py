"""The integration note's app plus ``Portal(app)``, in Chromium: it greets the signed-in user."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from tests.conftest import PASSWORD
from tests.support.origin import origin_note

from gradio_portal.testing import LiveServer


@pytest.fixture
def note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    with origin_note(tmp_path, monkeypatch) as module:
        yield module


def test_the_notes_greeting_names_the_signed_in_user(
    note: ModuleType,
    serve: Callable[[Any], LiveServer],
    signed_in_page: Callable[..., Page],
) -> None:
    server = serve(note.app)
    page = signed_in_page(server, "alice", PASSWORD, next="/greeter/")
    page.wait_for_url("**/greeter/")
    expect(page.locator("#user-info")).to_contain_text("Welcome, alice!")
