"""gradio-portal's pytest plugin: a live portal, signed-in clients, Gradio's protocol, a browser.

Installed with the package (entry point ``pytest11``), so every test of a project that has
gradio-portal installed can ask for these fixtures; docs/testing.md shows them at work.

``portal_server``
    ``portal_server(portal)`` serves a :class:`~gradio_portal.Portal` (or any ASGI app) with
    uvicorn on ``127.0.0.1`` and a port the kernel picks; returns the running
    :class:`~gradio_portal.testing.LiveServer` (``.url``). Stopped after the test.
``portal_client``
    ``portal_client(server)``: an anonymous ``httpx.Client`` with ``base_url=server.url``.
``signed_in_client``
    ``signed_in_client(server, "ada", password)``: a new client signed in through the login
    form (CSRF included); fails the test, with the page's answer, unless the sign-in worked.
``gradio_events``
    ``gradio_events(client, "/app")``: a :class:`~gradio_portal.testing.GradioEvents` that
    calls the events of the Blocks mounted there as the browser does (``queue/join`` and the
    ``queue/data`` stream), with ``client``'s cookies.
``portal_browser``
    Headless Chromium driven by Playwright, one per test module. Without Playwright (``pip
    install playwright``) or without the browser, the test is skipped with what to install;
    with ``GRADIO_PORTAL_REQUIRE_SERVICES=1`` in the environment (CI) it fails instead.
``signed_in_page``
    ``signed_in_page(server, "ada", password, next="/app/")``: a Playwright ``Page`` in a
    fresh browser context (its own cookies), signed in through the login form and showing
    ``next``. Fails the test, with the form's error, unless the sign-in worked.

The ``server`` of these factories is anything with a ``url`` (a LiveServer, a
:class:`~gradio_portal.testing.cluster.Cluster`) or a base URL string. One ini option:
``gradio_portal_chromium``, the Chromium executable (default ``/usr/bin/chromium``, Debian's;
empty: the Chromium Playwright downloads with ``playwright install chromium``).
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NoReturn, Protocol
from urllib.parse import urlencode, urlsplit

import httpx
import pytest

from gradio_portal import Portal
from gradio_portal.testing.browser import (
    CHROMIUM,
    browser_login,
    launch_chromium,
    new_browser_context,
)
from gradio_portal.testing.events import GradioEvents
from gradio_portal.testing.server import LiveServer
from gradio_portal.testing.signin import login

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Response

__all__ = [
    "gradio_events",
    "portal_browser",
    "portal_client",
    "portal_server",
    "signed_in_client",
    "signed_in_page",
]

CHROMIUM_INI = "gradio_portal_chromium"
REQUIRE_ENV = "GRADIO_PORTAL_REQUIRE_SERVICES"
# The reason the login page gives for a refusal (pages/templates/login.html).
_FORM_ERROR = re.compile(r'class="error"[^>]*>([^<]*)<')


class Served(Protocol):
    """What the factories accept as ``server``: anything that knows its base URL."""

    @property
    def url(self) -> str: ...


def _url(server: Served | str) -> str:
    return server if isinstance(server, str) else server.url


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        CHROMIUM_INI,
        "Chromium that portal_browser drives (empty: Playwright's own download)",
        default=CHROMIUM,
    )


@pytest.fixture
def portal_server() -> Iterator[Callable[..., LiveServer]]:
    """``portal_server(portal_or_app, **uvicorn_config)``: a live server on a free port."""
    servers: list[LiveServer] = []

    def start(app: Portal | Any, **config: Any) -> LiveServer:
        server = LiveServer(app.app if isinstance(app, Portal) else app, **config).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def portal_client() -> Iterator[Callable[..., httpx.Client]]:
    """``portal_client(server, **httpx_options)``: an anonymous client, closed afterwards."""
    clients: list[httpx.Client] = []

    def make(server: Served | str, **options: Any) -> httpx.Client:
        options.setdefault("timeout", 30)
        client = httpx.Client(base_url=_url(server), **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def signed_in_client(portal_client: Callable[..., httpx.Client]) -> Callable[..., httpx.Client]:
    """``signed_in_client(server, username, password, *, next="", **httpx_options)``."""

    def sign_in(
        server: Served | str,
        username: str,
        password: str,
        *,
        next: str = "",
        login_path: str = "/login",
        **options: Any,
    ) -> httpx.Client:
        client = portal_client(server, **options)
        answer = login(client, username, password, next=next, login_path=login_path)
        if answer.status_code != 303:
            error = _FORM_ERROR.search(answer.text)
            reason = html.unescape(error.group(1)) if error else answer.text[:300]
            pytest.fail(
                f"{username} could not sign in: {answer.status_code} {reason}", pytrace=False
            )
        return client

    return sign_in


@pytest.fixture
def gradio_events() -> Callable[..., GradioEvents]:
    """``gradio_events(client, mount, *, page=None)``: Gradio's queue protocol over ``client``."""

    def make(client: httpx.Client, mount: str, *, page: str | None = None) -> GradioEvents:
        return GradioEvents(client, mount, page=page)

    return make


def _unavailable(message: str) -> NoReturn:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{message} (and {REQUIRE_ENV}=1 asks for every browser test to run)")
    pytest.skip(f"SKIPPED LOUDLY: {message}")


# Module scope, not session: Playwright's sync API keeps an event loop running in the main
# thread while it is open, which would break every later test that calls asyncio.run().
@pytest.fixture(scope="module")
def portal_browser(pytestconfig: pytest.Config) -> Iterator[Browser]:
    """Headless Chromium through Playwright; skipped, saying what to install, when absent."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable(
            "Playwright is not installed: pip install playwright (no browser download needed: "
            f"it drives the Chromium that {CHROMIUM_INI} names, {CHROMIUM} by default)"
        )
    executable = str(pytestconfig.getini(CHROMIUM_INI)) or None
    if executable is not None and not os.access(executable, os.X_OK):
        _unavailable(
            f"no Chromium at {executable}: install it (Debian: apt-get install chromium), or "
            f"set {CHROMIUM_INI} in your pytest ini to another one (empty: Playwright's own, "
            "from playwright install chromium)"
        )
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright, executable)
        yield browser
        browser.close()


@pytest.fixture
def signed_in_page(portal_browser: Browser) -> Iterator[Callable[..., Page]]:
    """``signed_in_page(server, username, password, *, next="", **context_options)``."""
    contexts: list[BrowserContext] = []

    def open_page(
        server: Served | str,
        username: str,
        password: str,
        *,
        next: str = "",
        login_path: str = "/login",
        **context_options: Any,
    ) -> Page:
        context = new_browser_context(portal_browser, **context_options)
        contexts.append(context)
        page = context.new_page()
        page.goto(_url(server) + login_path + (f"?{urlencode({'next': next})}" if next else ""))

        def is_the_form_post(response: Response) -> bool:
            request = response.request
            return request.method == "POST" and urlsplit(request.url).path == login_path

        with page.expect_response(is_the_form_post) as posted:
            browser_login(page, username, password)
        if posted.value.status != 303:
            page.wait_for_load_state()
            reason = " ".join(page.locator(".error").all_inner_texts()) or page.url
            pytest.fail(
                f"{username} could not sign in: {posted.value.status} {reason}", pytrace=False
            )
        # Signed in: the browser follows the redirect to next (or where the portal lands users).
        page.wait_for_url(lambda url: urlsplit(url).path != login_path)
        return page

    yield open_page
    for context in contexts:
        context.close()
