"""Throughput of 1, 2 and 3 portal processes behind nginx (cookie affinity), in one run.

Three real ``gradio-portal serve`` processes serve the reference chat on PostgreSQL (a fresh
``gp_test_*`` database, dropped afterwards) and Redis; a private nginx rendered from
``deploy/nginx.conf.template`` sends the load to the first 1, 2 or 3 of them. Two loads run
through nginx for each process count, closed-loop (each user waits for its answer, then asks
again), users signed in beforehand:

- ``events``: the chat page's load event (``open_page``: session from Redis, the user's
  conversations from PostgreSQL), over ``queue/join`` + the ``queue/data`` stream;
- ``chat``: a chat turn (message stored, echo reply of ``--reply-tokens`` tokens streamed and
  stored), latency = send to last update.

Run ``python -m bench.bench_scale`` (about 2 to 3 minutes); ``run()`` returns the rows for the
report generator. Every process shares the machine's cores with nginx, PostgreSQL, Redis and
the load generator: on a 2-core machine a third process cannot add capacity, and the table
says so rather than hiding it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from bench._common import PASSWORD, REPO
from gradio_portal.testing import (
    AsyncGradioEvents,
    async_login,
    async_logout,
    event_ids,
    new_session_hash,
)
from gradio_portal.testing.cluster import Cluster, fresh_postgres_database
from gradio_portal.testing.nginx import Nginx

__all__ = ["main", "run"]

NGINX_TEMPLATE = REPO / "deploy" / "nginx.conf.template"
POSTGRES_URL = os.environ.get(
    "GRADIO_PORTAL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("GRADIO_PORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
CHAT = "/chat"  # where `gradio-portal serve` without TARGET mounts the built-in chat


@dataclass
class _Samples:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""

    def fail(self, reason: str) -> None:
        self.errors += 1
        self.first_error = self.first_error or reason


class _User:
    """One signed-in browser: its own cookies (session and affinity), one event at a time."""

    def __init__(self, base_url: str, mount: str, username: str) -> None:
        self.client = httpx.AsyncClient(
            base_url=base_url, timeout=60, limits=httpx.Limits(max_connections=4)
        )
        self.events = AsyncGradioEvents(self.client, mount)
        self.username = username
        self.ids: dict[str, int] = {}

    async def sign_in(self) -> None:
        answer = await async_login(self.client, self.username, PASSWORD)
        if answer.status_code != 303:
            raise RuntimeError(f"login of {self.username} answered {answer.status_code}")
        self.ids = event_ids(await self.events.config())

    async def sign_out(self) -> None:
        try:
            await async_logout(self.client)
        finally:
            await self.client.aclose()

    async def chat_turn(self, message: str) -> str | None:
        """One chat message as the browser sends it: ``send``, then ``stream_reply``."""
        session_hash = new_session_hash()
        error = await self.event("send", [message, None, None], session_hash)
        if error is not None:
            return error
        return await self.event("stream_reply", [None], session_hash)

    async def event(
        self, api_name: str, data: list[Any], session_hash: str | None = None
    ) -> str | None:
        """Run one event to completion (``queue/join`` + ``queue/data``); None, or why not."""
        result = await self.events.stream(
            self.ids[api_name], data, session_hash or new_session_hash()
        )
        return result.error


async def _load(
    users: Sequence[_User],
    action: Callable[[_User], Awaitable[str | None]],
    duration: float,
    warmup: float,
) -> tuple[_Samples, float]:
    samples = _Samples()
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + duration

    async def one(user: _User) -> None:
        while (now := time.perf_counter()) < stop_at:
            try:
                error = await action(user)
            except httpx.HTTPError as exc:
                error = type(exc).__name__
            if now >= measure_from:
                if error is None:
                    samples.latencies.append(time.perf_counter() - now)
                else:
                    samples.fail(error)

    await asyncio.gather(*(one(user) for user in users))
    # Events still running at stop_at finish after it; count the whole span they took.
    return samples, max(time.perf_counter(), stop_at) - measure_from


def _row(processes: int, load: str, users: int, samples: _Samples, span: float) -> dict[str, Any]:
    ordered = sorted(samples.latencies)

    def pct(q: float) -> float | None:
        if not ordered:
            return None
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000

    return {
        "processes": processes,
        "load": load,
        "users": users,
        "completed": len(ordered),
        "errors": samples.errors,
        "first_error": samples.first_error,
        "throughput_per_s": len(ordered) / span if span > 0 else 0.0,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "mean_ms": statistics.fmean(ordered) * 1000 if ordered else None,
        "seconds": span,
    }


async def _measure_all(
    cluster: Cluster,
    root: Path,
    mount: str,
    process_counts: Sequence[int],
    usernames: Sequence[str],
    *,
    duration: float,
    warmup: float,
    deadline: float,
) -> list[dict[str, Any]]:
    """Sign in once, then run both loads through a fresh nginx for each process count.

    Sessions live in Redis, so the same signed-in users serve every count; each count gets
    new affinity cookies (a new nginx hands them out) and an empty conversations table, so
    every count sees the same work.
    """
    ports = cluster.supervisor.ports
    users = [_User(cluster.url, mount, name) for name in usernames]
    rows: list[dict[str, Any]] = []
    try:
        await asyncio.gather(*(user.sign_in() for user in users))
        for count in process_counts:
            if time.monotonic() > deadline:
                rows.append({"processes": count, "skipped": True})
                continue
            _clear_conversations(cluster.database_url)
            nginx = Nginx(root / f"nginx-{count}", ports[:count], template=NGINX_TEMPLATE).start()
            try:
                for user in users:
                    user.client.base_url = httpx.URL(nginx.url)
                    user.client.cookies.delete("gp_affinity")
                samples, span = await _load(
                    users, lambda u: u.event("open_page", []), duration, warmup
                )
                rows.append(_row(count, "events", len(users), samples, span))
                samples, span = await _load(
                    users, lambda u: u.chat_turn("Hello there"), duration, warmup
                )
                rows.append(_row(count, "chat", len(users), samples, span))
            finally:
                nginx.stop()
        return rows
    finally:
        for user in users:
            user.client.base_url = httpx.URL(cluster.url)
        await asyncio.gather(*(user.sign_out() for user in users), return_exceptions=True)


def _clear_conversations(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM messages"))
            connection.execute(text("DELETE FROM conversations"))
    finally:
        engine.dispose()


def run(
    process_counts: Sequence[int] = (1, 2, 3),
    *,
    users: int = 24,
    duration: float = 12.0,
    warmup: float = 2.0,
    reply_tokens: int = 40,
    tokens_per_second: float = 200.0,
    postgres_url: str = POSTGRES_URL,
    redis_url: str = REDIS_URL,
    time_budget: float = 170.0,
    workdir: str | os.PathLike[str] | None = None,
) -> list[dict[str, Any]]:
    """Measure both loads through nginx for each count in ``process_counts``.

    Starts ``max(process_counts)`` processes once and points a fresh nginx at the first N of
    them for each count. Counts whose turn comes after ``time_budget`` seconds are skipped (a
    row with ``skipped=True``). Returns one dict per (count, load): processes, load, users,
    completed, errors, first_error, throughput_per_s, p50_ms, p99_ms, mean_ms, seconds.
    """
    deadline = time.monotonic() + time_budget
    names = [f"bench{i:02d}" for i in range(users)]
    with tempfile.TemporaryDirectory(prefix="bench-scale-", dir=workdir) as scratch:
        root = Path(scratch)
        with (
            fresh_postgres_database(postgres_url) as database_url,
            Cluster.run(
                root,
                processes=max(process_counts),
                database_url=database_url,
                redis_url=redis_url,
                nginx_template=NGINX_TEMPLATE,
                target=None,  # the built-in app: the chat, at CHAT
                users=names,
                password=PASSWORD,
                cwd=REPO,
                extra_env={
                    "GRADIO_PORTAL_CHAT_BACKEND": "echo",
                    "GRADIO_PORTAL_CHAT_ECHO_TOKENS_PER_SECOND": str(tokens_per_second),
                    "GRADIO_PORTAL_CHAT_ECHO_REPLY_TOKENS": str(reply_tokens),
                },
            ) as cluster,
        ):
            return asyncio.run(
                _measure_all(
                    cluster,
                    root,
                    CHAT,
                    process_counts,
                    names,
                    duration=duration,
                    warmup=warmup,
                    deadline=deadline,
                )
            )


def table(rows: Sequence[dict[str, Any]]) -> str:
    """The rows as a Markdown table, with throughput relative to one process."""
    base = {r["load"]: r["throughput_per_s"] for r in rows if r.get("processes") == 1}
    lines = [
        "| processes | load | users | completed | errors | per second | vs 1 | p50 ms | p99 ms |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if r.get("skipped"):
            lines.append(f"| {r['processes']} | skipped: over the time budget | | | | | | | |")
            continue

        def ms(value: float | None) -> str:
            return "-" if value is None else f"{value:.0f}"

        rel = base.get(r["load"])
        ratio = f"{r['throughput_per_s'] / rel:.2f}x" if rel else "-"
        lines.append(
            f"| {r['processes']} | {r['load']} | {r['users']} | {r['completed']} | "
            f"{r['errors']} | {r['throughput_per_s']:.1f} | {ratio} | {ms(r['p50_ms'])} | "
            f"{ms(r['p99_ms'])} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--processes", default="1,2,3", help="comma-separated counts")
    parser.add_argument("--users", type=int, default=24)
    parser.add_argument("--duration", type=float, default=12.0, help="seconds per load")
    parser.add_argument("--reply-tokens", type=int, default=40)
    parser.add_argument("--json", action="store_true", help="print the rows as JSON too")
    args = parser.parse_args(argv)
    counts = [int(c) for c in args.processes.split(",")]
    started = time.monotonic()
    rows = run(counts, users=args.users, duration=args.duration, reply_tokens=args.reply_tokens)
    print(
        f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}, "
        f"wall time {time.monotonic() - started:.0f} s"
    )
    print(table(rows))
    errors = [r for r in rows if r.get("first_error")]
    for r in errors:
        print(f"first error with {r['processes']} process(es), {r['load']}: {r['first_error']}")
    if args.json:
        print(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
