"""Chromium through Playwright, and the portal's login form in it.

Playwright is imported only by whoever calls these (it is a test dependency, not one of the
portal's): ``pip install playwright``. No browser is downloaded: by default this drives the
system's Chromium at :data:`CHROMIUM` (Debian's ``chromium`` package).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Playwright

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "CONTEXT_TIMEOUT_MS",
    "browser_login",
    "launch_chromium",
    "new_browser_context",
]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
# Generous: test machines are often shared, and a Gradio page takes a while to render.
CONTEXT_TIMEOUT_MS = 20_000


def launch_chromium(playwright: Playwright, executable_path: str | None = CHROMIUM) -> Browser:
    """Headless Chromium without a sandbox; ``executable_path=None``: Playwright's own build."""
    return playwright.chromium.launch(executable_path=executable_path, args=list(CHROMIUM_ARGS))


def new_browser_context(browser: Browser, **options: Any) -> BrowserContext:
    """A fresh context (its own cookies: one signed-in person), 1200x800, patient timeouts."""
    options.setdefault("viewport", {"width": 1200, "height": 800})
    context = browser.new_context(**options)
    context.set_default_timeout(CONTEXT_TIMEOUT_MS)
    return context


def browser_login(page: Page, username: str, password: str, *, url: str | None = None) -> None:
    """Fill in the portal's login form on ``page`` and submit it, as a person would.

    With ``url`` (say ``server.url + "/login?next=/app/"``) the page goes there first. This
    does not wait for the outcome: a test of a wrong password expects the error, others wait
    for the page they asked for (``page.wait_for_url("**/app/")``).
    """
    if url is not None:
        page.goto(url)
    page.fill("#username", username)
    page.fill("#password", password)
    # The page may offer single sign-on too, in a form of its own: submit the password form.
    page.click("form:has(#password) button[type=submit]")
