"""4. Navigation: click-to-navigation time in Chromium, Python redirect vs ORIGIN.md's JS-only.

Two pages are open at once, one per app, and the clicks alternate between them in blocks:

- portal: ``btn.click(fn)`` where ``fn`` returns ``gradio_portal.Redirect("/app/?n=i")``: the
  event goes through Gradio's queue and the portal's head script navigates;
- bare: ORIGIN.md's ``btn.click(None, js="() => { window.location.href = ... }")``, which
  never leaves the browser.

The time is measured inside the browser: a capturing click listener stores the click's
timestamp in ``sessionStorage``, and the next page's ``performance.timeOrigin`` (when its
navigation started) minus that is click-to-navigation-start; Playwright's own overhead is not
in it. The queue round trip of each redirect is measured in the same click: a script installed
before the portal's own notes when the page reads the event's last message from its event
stream; from there to navigation start is the portal's browser script. For comparison, round
trips of a page in use are measured after each block of clicks: click a button whose Python
handler returns a new text, until the text shows.

Run alone: ``python -m bench.bench_navigation [--clicks N]``.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from bench._common import (
    PASSWORD,
    Section,
    ServerProcess,
    pin_load_generator,
    ratio,
    scratch_dir,
    seed_users,
    summarize,
    table,
)
from gradio_portal.testing.browser import browser_login, launch_chromium

MOUNT = "/app"  # where bench._apps mounts both navigation apps
RECORD_CLICK = """
document.addEventListener('click', (event) => {
  const target = event.target;
  if (target && target.closest && target.closest('#go')) {
    sessionStorage.setItem('clickAt', String(performance.timeOrigin + performance.now()));
  }
}, true);
"""
# Portal page only, installed before the portal's own script wraps fetch: note when the page
# reads its event's last message (process_completed) from the queue/data stream.
RECORD_ANSWER = """
(() => {
  const original = window.fetch;
  window.fetch = function (input, init) {
    const url = String(input instanceof Request ? input.url : input);
    return original.call(window, input, init).then((response) => {
      if (!url.includes('/queue/data') || !response.body) return response;
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      const body = new ReadableStream({
        async pull(controller) {
          const chunk = await reader.read();
          if (chunk.done) { controller.close(); return; }
          if (decoder.decode(chunk.value, { stream: true }).includes('process_completed')) {
            const now = performance.timeOrigin + performance.now();
            sessionStorage.setItem('answeredAt', String(now));
          }
          controller.enqueue(chunk.value);
        },
        cancel(reason) { return reader.cancel(reason); },
      });
      return new Response(body, { status: response.status, headers: response.headers });
    });
  };
})();
"""
READ_NAVIGATION = """() => {
  const clickAt = Number(sessionStorage.getItem('clickAt') || 'NaN');
  const answeredAt = Number(sessionStorage.getItem('answeredAt') || 'NaN');
  sessionStorage.removeItem('answeredAt');
  return [performance.timeOrigin - clickAt, answeredAt - clickAt];
}"""
ROUND_TRIP = """async () => {
  const box = document.querySelector('#out textarea');
  const before = box.value;
  const started = performance.now();
  document.querySelector('#ping').click();
  const deadline = started + 10000;
  while (box.value === before && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return box.value === before ? NaN : performance.now() - started;
}"""


def _ready(page: Any) -> None:
    # Svelte renders the button with its handlers attached, after the config has loaded.
    page.wait_for_load_state("load", timeout=30_000)
    page.wait_for_selector("#go", state="visible", timeout=30_000)


def _click_and_measure(page: Any, n: int) -> tuple[float, float]:
    """Click to navigation start, and click to the event's answer read (NaN: no event)."""
    page.click("#go")
    page.wait_for_url(f"**{MOUNT}/?n={n + 1}", wait_until="commit", timeout=30_000)
    page.wait_for_load_state("domcontentloaded", timeout=30_000)
    navigation, answered = page.evaluate(READ_NAVIGATION)
    _ready(page)
    return float(navigation), float(answered)


def _adapter_active(url: str, name: str) -> bool:
    """Does the portal's head script run on the page (not blocked, e.g. by a CSP)?"""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_context(base_url=url).new_page()
            _login(page, "portal", name)
            _ready(page)
            return bool(page.evaluate("() => typeof window.__gradioPortal === 'object'"))
        finally:
            browser.close()


def _login(page: Any, kind: str, name: str) -> None:
    if kind == "portal":
        browser_login(page, name, PASSWORD, url=f"/login?next={MOUNT}/?n=0")
        page.wait_for_url(f"**{MOUNT}/?n=0", timeout=30_000)
    else:
        page.goto(f"/login?username={name}")
        page.goto(f"{MOUNT}/?n=0")


def run(clicks: int = 40, block: int = 10) -> Section:
    from playwright.sync_api import sync_playwright

    began = time.monotonic()
    pin_load_generator()  # Chromium inherits the load generator's core
    times: dict[str, list[float]] = {"portal": [], "bare": []}
    answered: list[float] = []  # portal clicks: click to the event's answer read by the page
    round_trips: list[float] = []
    counters = {"portal": 0, "bare": 0}
    note = ""
    with scratch_dir("navigation") as tmp:
        (name,) = seed_users(tmp / "portal", 1)
        options: dict[str, Any] = {}
        with ServerProcess("portal_navigation", data_dir=tmp / "portal") as probe:
            if not _adapter_active(probe.url, name):
                options["drop_csp"] = True
                note = (
                    "\n\n**Note:** in this tree the portal's head script did not run on the "
                    "mounted page (its Content-Security-Policy blocks the inline script Gradio "
                    "injects from `head=`), so Python redirects could not navigate. The portal "
                    "row was measured with the `GradioHeaders` middleware removed by the "
                    "benchmark; everything else is the portal as it is."
                )
        with (
            ServerProcess(
                "portal_navigation", data_dir=tmp / "portal", options=options
            ) as portal_server,
            ServerProcess("bare_navigation", data_dir=tmp / "bare") as bare_server,
            sync_playwright() as playwright,
        ):
            browser = launch_chromium(playwright)
            try:
                pages = {}
                for kind, server in (("portal", portal_server), ("bare", bare_server)):
                    context = browser.new_context(base_url=server.url)
                    context.add_init_script(RECORD_CLICK)
                    if kind == "portal":
                        context.add_init_script(RECORD_ANSWER)
                    page = context.new_page()
                    _login(page, kind, name)
                    _ready(page)
                    pages[kind] = page
                # Warm-up: one navigation each, off the record.
                for kind, page in pages.items():
                    _click_and_measure(page, counters[kind])
                    counters[kind] += 1
                while min(len(v) for v in times.values()) < clicks:
                    for kind in (
                        ("portal", "bare")
                        if len(times["portal"]) % (2 * block) == 0
                        else ("bare", "portal")
                    ):
                        # A background tab gets throttled timers: measure the one in front.
                        pages[kind].bring_to_front()
                        for _ in range(block):
                            navigation, answer = _click_and_measure(pages[kind], counters[kind])
                            times[kind].append(navigation)
                            if kind == "portal":
                                answered.append(answer)
                            counters[kind] += 1
                        if kind == "portal":
                            # A page in use, for comparison: its events after the first one.
                            pages[kind].evaluate(ROUND_TRIP)
                            for _ in range(block):
                                round_trips.append(float(pages[kind].evaluate(ROUND_TRIP)))
            finally:
                browser.close()
    s = {kind: summarize(values) for kind, values in times.items()}
    rt = summarize(v for v in answered if v == v)
    script = summarize(
        nav - ans for nav, ans in zip(times["portal"], answered, strict=True) if ans == ans
    )
    settled = summarize(v for v in round_trips if v == v)
    rows = [
        [label, s[kind].n, f"{s[kind].median:.1f}", f"{s[kind].p90:.1f}", f"{s[kind].p99:.1f}"]
        for kind, label in (
            ("bare", "bare: JS-only `window.location.href` (ORIGIN.md)"),
            ("portal", "portal: Python handler returns `Redirect`"),
        )
    ]
    rows += [
        [label, summary.n, f"{summary.median:.1f}", f"{summary.p90:.1f}", f"{summary.p99:.1f}"]
        for label, summary in (
            ("... of which the queue round trip: click to the event's answer read", rt),
            ("... of which the answer to navigation start (the portal's script)", script),
            ("for comparison: a round trip of a page in use (ping, text shown)", settled),
        )
    ]
    gap = s["portal"].median - s["bare"].median
    verdict = "meets" if gap <= rt.median else "misses"
    body = (
        f"Headless Debian Chromium (Playwright), {clicks} clicks per app in alternating blocks "
        f"of {block}, after one warm-up click each. Click-to-navigation-start in ms, measured "
        "in the page (click timestamp vs the next document's `performance.timeOrigin`).\n\n"
        + table(["navigation", "clicks", "median ms", "p90 ms", "p99 ms"], rows)
        + f"\n\nThe portal's redirect costs {gap:.1f} ms more than the JS-only pattern at the "
        f"median (ratio {ratio(s['portal'].median, s['bare'].median)}); its own queue round "
        f"trip is {rt.median:.1f} ms. Target: within one queue round trip: **{verdict}**. "
        "A redirect is always the first event of a page that has just loaded (the click before "
        "it navigated), so its round trip is measured in the same clicks, in the page's fetch "
        f"layer; a ping of a page in use took {settled.median:.1f} ms." + note
    )
    return Section(
        title="4. Navigation: Python redirect vs JS-only, in Chromium",
        body=body,
        data={
            "csp_dropped": bool(note),
            "portal": s["portal"].median,
            "bare": s["bare"].median,
            "round_trip": rt.median,
            "round_trip_in_use": settled.median,
        },
        seconds=time.monotonic() - began,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=40)
    args = parser.parse_args()
    print(run(clicks=args.clicks).markdown())


if __name__ == "__main__":
    main()
