"""2. Chat load: many signed-in users streaming a reply at once, portal chat vs bare Gradio.

Every user sends one message at the same moment; the echo backend answers 300 tokens at 50
tokens/s, so the ideal turn takes 6 s. Each user has its own HTTP client and cookie jar and
plays the browser's own requests:

- portal: the ``send`` event of ``mount_chat``'s page (``run/predict``: it skips the queue), which
  stores the user message and creates the conversation, then ``stream_reply`` (``queue/join`` +
  ``queue/data``), which streams the coalesced reply to the chatbot and stores it.
- bare: ``gr.ChatInterface`` over the same echo generator, one yield per token, mounted on
  FastAPI; the browser's submit chain ``_clear_and_save_textbox`` and
  ``_append_message_to_history`` (``run/predict``) then ``_submit_fn`` (queued, streamed).
  ``concurrency_limit=None``; ``max_threads`` is Gradio's default 40, or 1,000 when tuned.

Portal users have the page open before the clock starts: its load event (``open_page``) ran
with the page's session hash, as a browser runs it when the page opens; the bare
``ChatInterface`` has no load event. Time to first token is from the user's submit to the
first streamed message carrying reply text; completion is to ``process_completed``. A turn
that fails, or takes over the timeout, counts as an error. Portal users are signed in by
creating their server-side sessions directly (login itself, 150 ms of Argon2 each, is not what
this measures; see the memory benchmark).

Run alone: ``python -m bench.bench_chat [--levels 10,50] [--no-search]``.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench._common import (
    Section,
    ServerProcess,
    pin_load_generator,
    scratch_dir,
    seed_sessions,
    seed_users,
    session_cookie_name,
    summarize,
    table,
)
from gradio_portal.testing import AsyncGradioEvents, StreamResult, event_ids, new_session_hash

IDEAL = 6.0
TOKENS = 300
RATE = 50.0
PASS_FACTOR = 1.5
TARGET_LEVEL = 100
"""The user count of the p99 target; the portal plays it ``target_runs`` times."""
TARGET_AT_100 = 1.2
TARGET_USERS = 150
MESSAGE = "hello there, how are things"
CHAT_MOUNT = "/chat"


def _has_reply_text(line: bytes) -> bool:
    # The echo reply starts "You said:"; the user's message never contains "You".
    return b"You" in line


@dataclass(frozen=True)
class Variant:
    key: str
    label: str
    factory: str
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def is_portal(self) -> bool:
        return self.factory == "portal_chat"

    @property
    def uses_chat_interface(self) -> bool:
        """Driven through gr.ChatInterface's events (bare apps and the portal stand-in)."""
        return not self.is_portal or bool(self.options.get("chat_interface"))

    @classmethod
    def portal(cls) -> Variant:
        return cls("portal", "portal (mount_chat)", "portal_chat", {})

    @classmethod
    def portal_chat_interface(cls) -> Variant:
        return cls(
            "portal_ci",
            "gr.ChatInterface behind the portal (coalesced, no database)",
            "portal_chat",
            {"chat_interface": True},
        )

    @classmethod
    def bare(cls, max_threads: int | None = None) -> Variant:
        if max_threads:
            return cls(
                "bare_tuned",
                f"bare ChatInterface, max_threads={max_threads}",
                "bare_chat",
                {"max_threads": max_threads},
            )
        return cls("bare", "bare ChatInterface (max_threads 40)", "bare_chat", {})


@dataclass
class LevelResult:
    users: int
    results: list[StreamResult]
    server_cpu: float
    wall: float

    @property
    def errors(self) -> int:
        return sum(1 for r in self.results if not r.success)

    def durations(self) -> list[float]:
        return [r.duration for r in self.results if r.success and r.duration is not None]

    def ttfts(self) -> list[float]:
        return [r.ttft for r in self.results if r.success and r.ttft is not None]

    @property
    def p99(self) -> float:
        return summarize(self.durations()).p99

    @property
    def passes(self) -> bool:
        return self.errors == 0 and self.p99 <= PASS_FACTOR * IDEAL


def prepare_users(variant: Variant, data_dir: Path, users: int) -> list[dict[str, str]]:
    """Cookies for ``users`` signed-in users of ``variant`` (seeded before the server starts)."""
    if not variant.is_portal:
        return [{"bare_user": f"user{i:04d}"} for i in range(users)]
    names = seed_users(data_dir, users)
    tokens = seed_sessions(data_dir, names)
    return [{session_cookie_name(): token} for token in tokens]


async def _open_portal_page(app: AsyncGradioEvents, ids: dict[str, int]) -> str:
    """The page's load event, as the browser runs it on opening the page; its session hash."""
    session_hash = new_session_hash()
    await app.run(ids["open_page"], [], session_hash)
    return session_hash


async def _turn_portal(
    app: AsyncGradioEvents, ids: dict[str, int], timeout: float, session_hash: str
) -> StreamResult:
    # As the browser does: `send` stores the message and updates the page once, then
    # `stream_reply` (same page) streams the answer to the chatbot alone.
    started = time.perf_counter()
    try:
        await app.run(ids["send"], [MESSAGE, None, None], session_hash)
    except httpx.HTTPError as exc:
        return StreamResult(started=started, error=f"{type(exc).__name__}: {exc}")
    return await app.stream(
        ids["stream_reply"],
        [None],
        session_hash,
        started=started,
        timeout=timeout,
        is_output=_has_reply_text,
    )


async def _turn_chat_interface(
    app: AsyncGradioEvents, ids: dict[str, int], timeout: float, session_hash: str
) -> StreamResult:
    started = time.perf_counter()
    try:
        await app.run(ids["_clear_and_save_textbox"], [MESSAGE], session_hash)
        await app.run(ids["_append_message_to_history"], [None, []], session_hash)
    except httpx.HTTPError as exc:
        return StreamResult(started=started, error=f"{type(exc).__name__}: {exc}")
    return await app.stream(
        ids["_submit_fn"],
        [None, None],
        session_hash,
        started=started,
        timeout=timeout,
        is_output=_has_reply_text,
    )


async def play_level(
    variant: Variant,
    url: str,
    cookies: list[dict[str, str]],
    users: int,
    *,
    timeout: float = 60,
    server: ServerProcess | None = None,
) -> LevelResult:
    """``users`` users each send one message at the same moment; wait for every reply."""
    limits = httpx.Limits(max_connections=4, max_keepalive_connections=4)
    clients = []
    for jar in cookies[:users]:
        client = httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits)
        if variant.is_portal:
            client.cookies.update(jar)
        clients.append(client)
    try:
        # Sign the bare users in, and open every connection, before the clock starts.
        async def warm(client: httpx.AsyncClient, jar: dict[str, str]) -> None:
            if "bare_user" in jar:
                await client.get("/login", params={"username": jar["bare_user"]})
            else:
                await client.get("/healthz")

        await asyncio.gather(*(warm(c, j) for c, j in zip(clients, cookies, strict=False)))
        config = await AsyncGradioEvents(clients[0], CHAT_MOUNT).config()
        ids = _first_ids(config)
        turn = _turn_chat_interface if variant.uses_chat_interface else _turn_portal
        apps = [AsyncGradioEvents(client, CHAT_MOUNT) for client in clients]
        if variant.uses_chat_interface:
            pages = [new_session_hash() for _ in apps]
        else:
            pages = list(await asyncio.gather(*(_open_portal_page(app, ids) for app in apps)))
        cpu_before = server.cpu_seconds() if server else 0.0
        began = time.perf_counter()
        results = await asyncio.gather(
            *(turn(app, ids, timeout, page) for app, page in zip(apps, pages, strict=True))
        )
        wall = time.perf_counter() - began
        cpu = (server.cpu_seconds() - cpu_before) if server else 0.0
        return LevelResult(users, list(results), cpu, wall)
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))


def _first_ids(config: dict[str, Any]) -> dict[str, int]:
    """Event ids by api_name; for names Gradio numbers (``_submit_fn_1``), the first."""
    return event_ids(config)


def _row(variant: Variant, level: LevelResult) -> list[Any]:
    ttft = summarize(level.ttfts())
    done = summarize(level.durations())
    messages = sum(r.messages for r in level.results) / max(1, len(level.results))
    return [
        variant.label,
        level.users,
        f"{ttft.median:.2f}",
        f"{ttft.p99:.2f}",
        f"{done.median:.2f} ({done.median / IDEAL:.2f}x)",
        f"{done.p99:.2f} ({done.p99 / IDEAL:.2f}x)",
        level.errors,
        f"{messages:.0f}",
        f"{level.server_cpu / level.users * 1000:.0f}",
    ]


HEADER = [
    "app",
    "users",
    "TTFT p50 s",
    "TTFT p99 s",
    "completion p50 s (x ideal)",
    "completion p99 s (x ideal)",
    "errors",
    "messages/turn",
    "server CPU ms/turn",
]


def search(
    variant: Variant,
    server: ServerProcess,
    cookies: list[dict[str, str]],
    *,
    start: int,
    ceiling: int,
    max_runs: int,
    timeout: float,
) -> tuple[int, list[LevelResult]]:
    """The largest user count that passes (p99 <= 1.5x ideal, no errors), within max_runs.

    Grows by half again from ``start`` until a level fails, then bisects to 10 users.
    """
    tried: list[LevelResult] = []
    best, worst = 0, ceiling + 1
    users = start
    for _ in range(max_runs):
        level = asyncio.run(
            play_level(variant, server.url, cookies, users, timeout=timeout, server=server)
        )
        tried.append(level)
        if level.passes:
            best = max(best, users)
        else:
            worst = min(worst, users)
        if worst <= ceiling:
            if worst - best <= 10:
                break
            users = (best + worst) // 2 if best else max(5, worst // 2)
        else:
            if users >= ceiling:
                break
            users = min(ceiling, int(users * 1.5))
        time.sleep(1)
    return best, tried


def run(
    levels: tuple[int, ...] = (10, 50, 100, 200),
    *,
    with_search: bool = True,
    ceiling: int = 300,
    timeout: float = 45,
    target_runs: int = 3,
) -> Section:
    """The chat table, with the target level (100 users) played ``target_runs`` times for the
    portal: one run at the line says little on a shared machine, three say how reliably."""
    began = time.monotonic()
    pin_load_generator()
    at_target = tuple(n for n in levels if n == TARGET_LEVEL) or levels[-1:]
    portal_levels = tuple(
        n for level in levels for n in [level] * (target_runs if level == TARGET_LEVEL else 1)
    )
    plan: list[tuple[Variant, tuple[int, ...], bool]] = [
        (Variant.portal(), portal_levels, with_search),
        (Variant.portal_chat_interface(), at_target, False),
        (Variant.bare(), levels, False),
        (Variant.bare(max_threads=1000), levels, with_search),
    ]
    variants = [variant for variant, _, _ in plan]
    rows: list[list[Any]] = []
    found: dict[str, tuple[int, list[LevelResult]]] = {}
    data: dict[str, Any] = {"levels": {}, "search": {}}
    most = max(max(levels), ceiling if with_search else 0)
    with scratch_dir("chat") as tmp:
        for variant, variant_levels, searched in plan:
            data_dir = tmp / variant.key
            cookies = prepare_users(variant, data_dir, most)
            with ServerProcess(
                variant.factory, data_dir=data_dir, options=variant.options
            ) as server:
                # One small turn first: imports, caches and the database warm up off the clock.
                asyncio.run(play_level(variant, server.url, cookies, 2, timeout=timeout))
                for users in variant_levels:
                    level = asyncio.run(
                        play_level(
                            variant, server.url, cookies, users, timeout=timeout, server=server
                        )
                    )
                    rows.append(_row(variant, level))
                    data["levels"].setdefault(f"{variant.key}@{users}", []).append(
                        {
                            "errors": level.errors,
                            "ttft_p50": summarize(level.ttfts()).median,
                            "ttft_p99": summarize(level.ttfts()).p99,
                            "p50": summarize(level.durations()).median,
                            "p99": level.p99,
                        }
                    )
                    time.sleep(1)
                if searched:
                    # Bounded: the portal is searched from 100 users, the tuned bare app
                    # (which a yield per token holds to a few dozen) from 50.
                    found[variant.key] = search(
                        variant,
                        server,
                        cookies,
                        start=100 if variant.is_portal else 50,
                        ceiling=ceiling,
                        max_runs=5 if variant.is_portal else 4,
                        timeout=timeout,
                    )
    labels = {v.key: v.label for v in variants}
    body = [
        f"{TOKENS} tokens at {RATE:.0f} tokens/s per reply (ideal {IDEAL:.0f} s), all users "
        f"sending at once, one turn each; timeout {timeout:.0f} s per turn. "
        + "The portal row is the real chat app (`mount_chat`), database writes included; "
        "the ChatInterface row is the same portal serving a bare `gr.ChatInterface` whose "
        "function coalesces the echo stream, without a database.",
        "",
        table(HEADER, rows),
    ]
    if found:
        search_rows = []
        for key, (best, tried) in found.items():
            trail = ", ".join(
                f"{lvl.users}: {'pass' if lvl.passes else 'fail'} (p99 {lvl.p99:.1f} s"
                + (f", {lvl.errors} errors" if lvl.errors else "")
                + ")"
                for lvl in tried
            )
            search_rows.append([labels[key], best or "< lowest tried", trail])
            data["search"][key] = best
        body += [
            "",
            f"Largest number of users one process carries with p99 completion <= "
            f"{PASS_FACTOR}x ideal ({PASS_FACTOR * IDEAL:.0f} s) and no errors (bounded "
            "search: grow by half, then bisect to 10 users):",
            "",
            table(["app", "users/process", "levels tried"], search_rows),
        ]
    p99s = [run["p99"] for run in data["levels"].get(f"portal@{TARGET_LEVEL}", [])]
    if p99s:
        within = sum(1 for p99 in p99s if p99 <= TARGET_AT_100 * IDEAL)
        body += [
            "",
            f"Targets: at {TARGET_LEVEL} users p99 <= {TARGET_AT_100}x ideal "
            f"({TARGET_AT_100 * IDEAL:.2f} s): portal within it in {within} of {len(p99s)} runs "
            "(p99 "
            + ", ".join(f"{p99:.2f} s ({p99 / IDEAL:.2f}x)" for p99 in p99s)
            + f"); >= {TARGET_USERS} users/process within {PASS_FACTOR}x "
            f"(portal: {found.get('portal', (0, []))[0] if found else 'not searched'}).",
        ]
    return Section(
        title="2. Chat load: portal chat vs bare gr.ChatInterface",
        body="\n".join(body),
        data=data,
        seconds=time.monotonic() - began,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="10,50,100,200")
    parser.add_argument("--no-search", action="store_true")
    parser.add_argument("--ceiling", type=int, default=300)
    parser.add_argument("--target-runs", type=int, default=3, help="portal runs at 100 users")
    args = parser.parse_args()
    levels = tuple(int(x) for x in args.levels.split(","))
    section = run(
        levels, with_search=not args.no_search, ceiling=args.ceiling, target_runs=args.target_runs
    )
    print(section.markdown())


if __name__ == "__main__":
    main()
