"""The corpus' two servers and the browser sides that visit them, started once per module.

- the **bare** server: a plain ``FastAPI()`` with every app of the corpus mounted by
  ``gr.mount_gradio_app``, each at its own path, served by uvicorn;
- the **portal** server: the same apps (built anew: a Blocks serves one application) at the
  same paths behind ``Portal(app)``, mounted with ``portal.mount`` or, for the apps marked
  ``adopted``, with ``gr.mount_gradio_app`` on the application the portal was given.

Both run in this process on ports the kernel picks (``gradio_portal.testing.LiveServer``).
The portal side signs in once, through the login form in Chromium, and every visit starts a
fresh browser context carrying that session cookie.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import gradio as gr
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, expect
from tests.compat.apps import APPS
from tests.compat.differences import not_behind_portal
from tests.compat.harness import Side

from gradio_portal import Portal, PortalSettings
from gradio_portal.testing import LiveServer, browser_login
from gradio_portal.testing.browser import new_browser_context

USER = "ada"
PASSWORD = "correct horse battery"
# Playwright's expect() waits 5 s by default; a Gradio event on a busy two-core machine can
# take longer. Actions and locator waits use the context's timeout (20 s).
EXPECT_TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def corpus_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A clean environment for building the apps: no developer GRADIO_PORTAL_* settings,
    Gradio's example cache in a directory of this run, no analytics."""
    workdir = tmp_path_factory.mktemp("compat")
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("GRADIO_PORTAL_") and name != "GRADIO_PORTAL_REQUIRE_SERVICES":
                patch.delenv(name)
        patch.setenv("GRADIO_EXAMPLES_CACHE", str(workdir / "examples"))
        patch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
        expect.set_options(timeout=EXPECT_TIMEOUT_MS)
        try:
            yield workdir
        finally:
            expect.set_options(timeout=5_000)


@pytest.fixture(scope="module")
def corpus_bare_server(corpus_environment: Path) -> Iterator[LiveServer]:
    app = FastAPI()
    for spec in APPS:
        gr.mount_gradio_app(app, spec.build(), spec.path, **spec.mount_options)
    with LiveServer(app) as server:
        yield server


@pytest.fixture(scope="module")
def corpus_portal_server(corpus_environment: Path) -> Iterator[LiveServer]:
    behind = [spec for spec in APPS if not_behind_portal(spec) is None]
    app = FastAPI()
    for spec in behind:
        if spec.adopted:
            gr.mount_gradio_app(app, spec.build(), spec.path, **spec.mount_options)
    portal = Portal(app, settings=PortalSettings(data_dir=corpus_environment / "portal"))
    portal.accounts.create(USER, PASSWORD, display_name="Ada Lovelace")
    for spec in behind:
        if not spec.adopted:
            portal.mount(spec.build(), spec.path, **spec.mount_options)
    with LiveServer(portal.app) as server:
        yield server


@pytest.fixture(scope="module")
def bare(corpus_bare_server: LiveServer, portal_browser: Browser) -> Side:
    return Side("bare", corpus_bare_server.url, portal_browser)


@pytest.fixture(scope="module")
def behind_portal(corpus_portal_server: LiveServer, portal_browser: Browser) -> Side:
    """The portal side, signed in once through the login form."""
    context = new_browser_context(portal_browser)
    try:
        page = context.new_page()
        browser_login(page, USER, PASSWORD, url=corpus_portal_server.url + "/login?next=/healthz")
        page.wait_for_url(lambda url: urlsplit(url).path == "/healthz")
        state = context.storage_state()
    finally:
        context.close()
    return Side("portal", corpus_portal_server.url, portal_browser, storage_state=dict(state))
