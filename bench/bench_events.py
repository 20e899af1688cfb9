"""1. Per-event overhead: the portal against ORIGIN.md's bare pattern, same run, interleaved.

Both apps run a callback that greets the signed-in user: the portal's reads
``ctx.user.display_name`` from its Context, the bare one reads
``request.request.session.get("username", "Guest")`` from Starlette's cookie session. Events go
one after the other over raw HTTP (``queue/join`` + ``queue/data``), in blocks that alternate
between the two servers (ABBA) so drift in a shared machine hits both alike. Besides latency,
the server's own CPU time per event is read from /proc: it is much less sensitive to other
work on the machine than wall time.

Run alone: ``python -m bench.bench_events [--events N]``.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from pathlib import Path
from typing import Any

import httpx

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
from gradio_portal.testing import GradioEvents, login

TARGET = 1.10


def _block(
    events: GradioEvents, server: ServerProcess, count: int, expected: str
) -> tuple[list[float], float, int]:
    """Run ``count`` events; return latencies (s), server CPU seconds used, and errors."""
    latencies: list[float] = []
    errors = 0
    cpu_before = server.cpu_seconds()
    for _ in range(count):
        started = time.perf_counter()
        result = events.call("greet", [])
        latencies.append(time.perf_counter() - started)
        if not result.success or result.output != [expected]:
            errors += 1
    return latencies, server.cpu_seconds() - cpu_before, errors


VARIANTS = {
    "bare": "bare (ORIGIN.md)",
    "portal": "portal (Context)",
    "portal_token": "portal, signed in with an access token",
    "portal_plain": "portal without its Gradio speed-ups",
}
OPTIONS: dict[str, dict[str, Any]] = {"portal_plain": {"gradio_speedups": False}}


def run(events: int = 500, rounds: int = 10, warmup: int = 30) -> Section:
    began = time.monotonic()
    pin_load_generator()
    per_block = max(1, events // rounds)
    latencies: dict[str, list[float]] = {kind: [] for kind in VARIANTS}
    cpu = dict.fromkeys(VARIANTS, 0.0)
    errors = dict.fromkeys(VARIANTS, 0)
    with scratch_dir("events") as tmp, contextlib.ExitStack() as stack:
        (name,) = seed_users(tmp / "portal", 1)
        runs = {}
        for kind in VARIANTS:
            portal = kind.startswith("portal")
            server = stack.enter_context(
                ServerProcess(
                    "portal_events" if portal else "bare_events",
                    data_dir=tmp / ("portal" if portal else "bare"),
                    options=OPTIONS.get(kind, {}),
                )
            )
            client = stack.enter_context(httpx.Client(base_url=server.url, timeout=30))
            if kind == "portal_token":
                token = _access_token(tmp / "portal", name)
                client.headers["authorization"] = f"Bearer {token}"
                expected = f"Hello {name.title()}"
            elif portal:
                if login(client, name, PASSWORD).status_code != 303:
                    raise RuntimeError("portal login failed")
                expected = f"Hello {name.title()}"
            else:
                client.get("/login", params={"username": name}).raise_for_status()
                expected = f"Hello {name}"
            runs[kind] = (GradioEvents(client, "/app"), server, expected)
        for events_client, server, expected in runs.values():
            _block(events_client, server, warmup, expected)
        kinds = list(VARIANTS)
        for index in range(rounds):
            # The order rotates and flips every round, so no side always runs first or last.
            order = kinds[index % len(kinds) :] + kinds[: index % len(kinds)]
            if index % 2:
                order.reverse()
            for kind in order:
                events_client, server, expected = runs[kind]
                lat, used, failed = _block(events_client, server, per_block, expected)
                latencies[kind].extend(lat)
                cpu[kind] += used
                errors[kind] += failed
    summaries = {kind: summarize(v) for kind, v in latencies.items()}
    cpu_ms = {kind: cpu[kind] / max(1, len(latencies[kind])) * 1000 for kind in cpu}
    b = summaries["bare"]
    rows = []
    for kind, label in VARIANTS.items():
        s = summaries[kind]
        rows.append(
            [
                label,
                s.n,
                f"{s.median * 1000:.2f}",
                f"{s.p90 * 1000:.2f}",
                f"{s.p99 * 1000:.2f}",
                f"{s.mean * 1000:.2f}",
                f"{cpu_ms[kind]:.2f}",
                errors[kind],
            ]
        )
    for kind in ("portal", "portal_token", "portal_plain"):
        s = summaries[kind]
        rows.append(
            [
                f"**ratio {VARIANTS[kind]} / bare**",
                "",
                ratio(s.median, b.median),
                ratio(s.p90, b.p90),
                ratio(s.p99, b.p99),
                ratio(s.mean, b.mean),
                ratio(cpu_ms[kind], cpu_ms["bare"]),
                "",
            ]
        )
    median_ratio = summaries["portal"].median / b.median if b.median else float("nan")
    p = summaries["portal"]
    token_ratio = summaries["portal_token"].median / p.median if p.median else float("nan")
    plain_ratio = summaries["portal_plain"].median / b.median if b.median else float("nan")
    verdict = "meets" if median_ratio <= TARGET else "misses"
    body = (
        f"{per_block * rounds} events per app, sequential, in {rounds} rotating blocks of "
        f"{per_block} after {warmup} warm-up events each; all four servers run at once, one "
        "core, and only one is busy at a time. Latency is click-to-result as a browser gets "
        "it: `queue/join` sent to `process_completed` read. Server CPU is the server "
        "process's user+system time per event (/proc, all threads; 10 ms clock ticks, so "
        "read it as an average). The third app is the portal with its speed-ups of Gradio's own "
        "hot paths undone (src/gradio_portal/compat/speedups.py), as the bare app runs.\n\n"
        + table(
            [
                "app",
                "events",
                "median ms",
                "p90 ms",
                "p99 ms",
                "mean ms",
                "server CPU ms/event",
                "errors",
            ],
            rows,
        )
        + f"\n\nTarget: median ratio <= {TARGET:.2f}; the portal as it is **{verdict}** it "
        f"({median_ratio:.3f}); without its Gradio speed-ups: {plain_ratio:.3f}. An event "
        f"signed in with an access token against one with a cookie: {token_ratio:.3f} "
        f"(target <= 1.05: **{'meets' if token_ratio <= 1.05 else 'misses'}**)."
    )
    return Section(
        title="1. Per-event overhead: portal vs bare Gradio (ORIGIN.md)",
        body=body,
        data={
            "summaries": {k: vars_of(s) for k, s in summaries.items()},
            "cpu_ms_per_event": cpu_ms,
            "errors": errors,
            "median_ratio": median_ratio,
            "median_ratio_plain": plain_ratio,
            "median_ratio_token_vs_cookie": token_ratio,
        },
        seconds=time.monotonic() - began,
    )


def _access_token(data_dir: Path, username: str) -> str:
    """A personal access token of ``username`` in the portal database of ``data_dir``."""
    from gradio_portal import PortalSettings
    from gradio_portal.storage import Database
    from gradio_portal.users.tokens import AccessTokens

    database = Database(PortalSettings(data_dir=data_dir).resolved_database_url)
    try:
        return AccessTokens(database).create(username, label="benchmark")[0]
    finally:
        database.dispose()


def vars_of(summary: object) -> dict[str, float]:
    return {name: getattr(summary, name) for name in summary.__slots__}  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    print(run(events=args.events, rounds=args.rounds).markdown())


if __name__ == "__main__":
    main()
