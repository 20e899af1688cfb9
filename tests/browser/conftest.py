"""Browser fixtures: Debian's Chromium driven by Playwright (no browser is downloaded).

The browser comes from gradio-portal's pytest plugin (``portal_browser``: skipped loudly when
Chromium is missing, failed with GRADIO_PORTAL_REQUIRE_SERVICES=1; scripts/install-system-deps
installs it); these tests open their own contexts and pages in it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from gradio_portal.testing.browser import new_browser_context


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="module")
def browser(portal_browser: Browser) -> Browser:
    return portal_browser


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = new_browser_context(browser)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()
