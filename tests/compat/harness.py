"""The corpus' machinery: what an app is, how a visit records what a user sees, and how the
two sides of one app are compared.

An app of the corpus (:class:`CompatApp`) is a Blocks builder plus a *driver*: the clicks and
inputs of one user, written once and played against both servers. A driver works through a
:class:`Visit`, which opens pages in a fresh browser context and records **observations**: an
ordered mapping of names to plain values (texts, output values, counts, the bytes of a download).
It waits for explicit conditions only (``expect``, ``wait_for``); what it records is read after
the condition held, so both sides record the same thing whenever they behave alike.

Beside what the driver records, every visit records on its own:

- ``anonymous request``: what a browser without a session gets for the app's page;
- ``console errors``: console errors and uncaught exceptions of every page of the visit;
- ``failed responses``: answers of status 400 and above the pages received;
- ``runs saved in the browser``: whether Gradio's run history saved a run of the app in the
  browser's storage (``localStorage``).

:func:`compare` then lists every observation that differs between the two sides, unless an
entry of :mod:`tests.compat.differences` names it, with the value each side must have.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

import gradio as gr
import httpx
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Locator,
    Page,
    Request,
    Response,
)
from playwright.sync_api import Error as PlaywrightError

from gradio_portal.testing.browser import new_browser_context

__all__ = [
    "ANONYMOUS",
    "ANY_VALUE",
    "CONSOLE",
    "FAILED_RESPONSES",
    "RUNS_SAVED",
    "STOPPED",
    "CompatApp",
    "Side",
    "Visit",
    "compare",
]

ANONYMOUS = "anonymous request"
CONSOLE = "console errors"
FAILED_RESPONSES = "failed responses"
RUNS_SAVED = "runs saved in the browser"
STOPPED = "driver stopped"


class _Any:
    def __repr__(self) -> str:
        return "ANY_VALUE"


ANY_VALUE: Any = _Any()
"""In an intended difference: whatever this side observed."""

# The render snapshot of a page: the app's visible text, and how many visible blocks of each
# kind (Gradio's data-testid) it shows. Left out: status trackers (the spinners and timers of
# pending events, Gradio's "Loading..." screen) and the screen-reader announcements of event
# states (a live region Gradio fills and clears on timers), which depend on timing; and the
# footer, recorded on its own.
_SNAPSHOT_JS = """(root) => {
  const app = root.querySelector('.main') || root;
  const skipped = (el) =>
    el.closest('footer, [data-testid="status-tracker"], .sr-only[role="status"]') !== null;
  const visible = (el) => !el.checkVisibility || el.checkVisibility();
  const text = [];
  const walker = document.createTreeWalker(app, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    const value = node.textContent.trim();
    if (value && parent && !skipped(parent) && visible(parent)) text.push(value);
  }
  const kinds = {};
  for (const el of app.querySelectorAll('[data-testid]')) {
    if (skipped(el) || !visible(el)) continue;
    const kind = el.getAttribute('data-testid');
    kinds[kind] = (kinds[kind] || 0) + 1;
  }
  const footer = root.querySelector('footer');
  const links = footer ? [...footer.querySelectorAll('a, button')].filter(visible) : [];
  return {text, kinds, footer: links.map((el) => el.innerText.trim()).filter(Boolean)};
}"""
# Gradio's run history keeps each app's runs under this prefix (gradio/templates/frontend).
_RUNS_SAVED_JS = "Object.keys(localStorage).some((key) => key.startsWith('gradio:run-history:v2:'))"
_IMAGES_LOADED_JS = """(selector) => {
  const images = [...document.querySelectorAll(selector)];
  return images.length > 0 && images.every((i) => i.complete && i.naturalWidth > 0);
}"""
_HOST = re.compile(r"https?://(?:127\.0\.0\.1|localhost):\d+")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


@dataclass(frozen=True)
class CompatApp:
    """One app of the corpus.

    ``name`` is also its mount path (``/<name>``, underscores as dashes). ``mount_options`` go
    to ``gr.mount_gradio_app`` on both sides (``portal.mount`` passes them on). Behind the
    portal the app is mounted with ``portal.mount``, or with ``gr.mount_gradio_app`` on the
    application given to ``Portal(app)`` when ``adopted`` (the portal takes such mounts over).
    """

    name: str
    build: Callable[[], gr.Blocks]
    drive: Callable[[Visit], None]
    mount_options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    adopted: bool = False

    @property
    def path(self) -> str:
        return "/" + self.name.replace("_", "-")


@dataclass
class Side:
    """One server of the comparison: its URL, and how a visit gets a browser context there.

    ``storage_state`` carries the portal's session cookie into every context of the portal side
    (signed in once); the bare side's contexts start empty.
    """

    name: str
    url: str
    browser: Browser
    storage_state: dict[str, Any] | None = None

    def new_context(self, **options: Any) -> BrowserContext:
        if self.storage_state is not None:
            options.setdefault("storage_state", self.storage_state)
        return new_browser_context(self.browser, **options)

    def visit(self, app: CompatApp) -> Visit:
        """Play ``app``'s driver here; the visit keeps what was observed."""
        visit = Visit(self, app)
        with httpx.Client(base_url=self.url, timeout=30) as client:
            answer = client.get(app.path + "/", headers={"accept": "text/html"})
        location = answer.headers.get("location")
        visit.observed[ANONYMOUS] = f"{answer.status_code}" + (f" {location}" if location else "")
        try:
            app.drive(visit)
        except (AssertionError, PlaywrightError) as exc:
            visit.stop(exc)
        finally:
            visit.close()
        return visit


class Visit:
    """One user's visit to one app on one side: pages, and what they showed.

    Drivers use ``open`` for pages and ``record``/``snapshot``/``value``/``text``/``download``/
    ``fetch`` for observations; the names they record under must be unique in the visit.
    """

    def __init__(self, side: Side, app: CompatApp) -> None:
        self.side = side
        self.app = app
        self.observed: dict[str, Any] = {}
        self._contexts: list[BrowserContext] = []
        self._console: set[str] = set()
        self._failed: set[str] = set()
        self._listening = True
        self._files = tempfile.TemporaryDirectory(prefix="compat-")
        # What the pages asked the server, for the report of a driver that stopped (timing
        # differs from run to run, so it is never compared).
        self.trail: list[str] = []
        self._started = time.monotonic()

    # -- pages ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The app's address on this side (``http://127.0.0.1:<port>/<name>``, no slash)."""
        return self.side.url + self.app.path

    def new_context(self, **options: Any) -> BrowserContext:
        """A fresh browser context (own storage) on this side, closed with the visit."""
        context = self.side.new_context(**options)
        self._contexts.append(context)
        return context

    def open(
        self, page_path: str = "/", *, context: BrowserContext | None = None, ready: str = ""
    ) -> Page:
        """A new page showing ``page_path`` of the app, loaded and rendered.

        Rendered means Gradio's container is visible, and ``ready`` (a selector), when given,
        too. ``context`` defaults to a fresh one.
        """
        page = (context or self.new_context()).new_page()
        page.on("console", self._on_console)
        page.on("pageerror", self._on_page_error)
        page.on("response", self._on_response)
        page.on("requestfailed", self._on_request_failed)
        page.goto(self.url + page_path)
        page.wait_for_load_state("load")
        self.wait_until_rendered(page)
        if ready:
            page.locator(ready).first.wait_for(state="visible")
        return page

    @staticmethod
    def _runs_saved(context: BrowserContext) -> bool | str:
        pages = [page for page in context.pages if not page.is_closed()]
        try:
            return bool(pages and pages[0].evaluate(_RUNS_SAVED_JS))
        except PlaywrightError as exc:  # a page the driver left mid-navigation, say
            return f"unreadable: {exc}"

    @staticmethod
    def wait_until_rendered(page: Page) -> None:
        """Gradio's app is mounted and its "Loading..." screen gone (every component drawn)."""
        page.locator(".gradio-container .main").first.wait_for(state="visible")
        page.locator(".gradio-container p.loading").first.wait_for(state="hidden")

    @staticmethod
    def wait_for_images(page: Page, selector: str) -> None:
        """Every image matching ``selector`` (at least one) is loaded and has a size."""
        page.wait_for_function(_IMAGES_LOADED_JS, arg=selector)

    def close(self) -> None:
        """Stop listening (what closing pages causes is not the app's doing), then close."""
        saved = [self._runs_saved(context) for context in self._contexts]
        self.observed[RUNS_SAVED] = next((s for s in saved if s), False)
        self._listening = False
        self.observed[CONSOLE] = sorted(self._console)
        self.observed[FAILED_RESPONSES] = sorted(self._failed)
        for context in self._contexts:
            context.close()
        self._files.cleanup()

    def make_file(self, name: str, data: bytes) -> Path:
        """A file named ``name`` holding ``data``, for the page to upload."""
        path = Path(self._files.name) / name
        path.write_bytes(data)
        return path

    def _on_console(self, message: ConsoleMessage) -> None:
        if self._listening and message.type == "error":
            where = message.location.get("url", "") if message.location else ""
            if urlsplit(where).path == "/favicon.ico":
                # Chromium asks for the site's icon on its own, whenever it gets to it: when
                # that happens in the visit is timing, and neither server has one.
                return
            self._console.add(self._portable(f"{message.text} [{where}]"))

    def _on_page_error(self, error: PlaywrightError) -> None:
        if self._listening:
            self._console.add(self._portable(f"uncaught: {error}"))

    def _note(self, line: str) -> None:
        self.trail.append(f"{time.monotonic() - self._started:7.3f}s {line}")

    def _on_request_failed(self, request: Request) -> None:
        if self._listening:
            self._note(f"failed {request.method} {urlsplit(request.url).path}: {request.failure}")

    def _on_response(self, response: Response) -> None:
        if self._listening and response.request.resource_type in ("fetch", "xhr", "eventsource"):
            self._note(f"{response.status} {response.request.method} {urlsplit(response.url).path}")
        if self._listening and response.status >= 400:
            path = urlsplit(response.url).path
            self._failed.add(f"{response.status} {response.request.method} {path}")

    @staticmethod
    def _portable(text: str) -> str:
        """``text`` without the server's address, which differs between the sides."""
        return _HOST.sub("<server>", text)

    # -- observations -----------------------------------------------------------------------

    def record(self, name: str, value: Any) -> Any:
        if name in self.observed:
            raise AssertionError(f"{self.app.name}: the driver records {name!r} twice")
        self.observed[name] = value
        return value

    def snapshot(self, name: str, page: Page) -> dict[str, Any]:
        """What the page renders: its visible texts and blocks by kind (``name``), and the
        links of Gradio's footer (``name: footer``)."""
        seen = page.locator(".gradio-container").first.evaluate(_SNAPSHOT_JS)
        self.record(f"{name}: footer", seen["footer"])
        return self.record(
            name, {"text": seen["text"], "kinds": dict(sorted(seen["kinds"].items()))}
        )

    def value(self, name: str, locator: Locator) -> str:
        """The value of an input or textarea."""
        return str(self.record(name, locator.input_value()))

    def text(self, name: str, locator: Locator) -> list[str]:
        """The visible text of ``locator`` (every match), as lines."""
        texts = locator.evaluate_all("l => l.map((e) => e.innerText ?? e.textContent)")
        return self.record(name, [line for text in texts for line in _lines(text)])

    def download(self, name: str, page: Page, trigger: Locator) -> dict[str, Any]:
        """Click ``trigger`` and record the download it starts: file name, size, digest."""
        with page.expect_download() as started:
            trigger.click()
        download = started.value
        failure = download.failure()
        if failure is not None:
            return self.record(name, {"failure": failure})
        data = Path(download.path()).read_bytes()
        return self.record(
            name,
            {"filename": download.suggested_filename, "size": len(data), "sha256": _digest(data)},
        )

    def fetch(self, name: str, page: Page, url: str) -> dict[str, Any]:
        """GET ``url`` with the page's cookies (relative to the app's page when it has no
        scheme) and record the status and the body's size and digest."""
        if not url.startswith(("http://", "https://")):
            url = self.url + "/" + url.lstrip("/")
        answer = page.request.get(url)
        body = answer.body()
        return self.record(
            name, {"status": answer.status, "size": len(body), "sha256": _digest(body)}
        )

    def stop(self, exc: BaseException) -> None:
        """Record where and why the driver stopped: the other side shows what it missed."""
        frames = [
            f for f in traceback.extract_tb(exc.__traceback__) if "/compat/apps/" in f.filename
        ]
        where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        self.observed[STOPPED] = f"{where}: {type(exc).__name__}: {self._portable(message)}"
        self._note(f"driver stopped at {where}")


def compare(
    bare: Mapping[str, Any],
    portal: Mapping[str, Any],
    intended: Callable[[str, Any], tuple[Any, Any] | None],
) -> list[str]:
    """Every difference between the sides' observations, as readable lines.

    ``intended(name, bare_value)`` gives, for an observation allowed to differ, the pair (what
    the bare side must show, what the portal side must show), either of which may be
    :data:`ANY_VALUE`; None for an observation whose values must be equal.
    """
    problems: list[str] = []
    for name in dict.fromkeys([*bare, *portal]):
        left, right = bare.get(name, "<not observed>"), portal.get(name, "<not observed>")
        expected = intended(name, left)
        if expected is None:
            if left != right:
                problems.append(f"{name}:\n    bare:   {left!r}\n    portal: {right!r}")
            continue
        want_bare, want_portal = expected
        if want_bare is not ANY_VALUE and left != want_bare:
            problems.append(f"{name}: the bare side shows {left!r}, expected {want_bare!r}")
        if want_portal is not ANY_VALUE and right != want_portal:
            problems.append(
                f"{name}: the portal side shows {right!r}, expected {want_portal!r} "
                "(an intended difference)"
            )
    return problems
