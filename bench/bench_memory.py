"""3. Memory: the server's resident memory across 1,000 logins, page loads and logouts.

Each user signs in through the real login form (CSRF and Argon2 included), loads the mounted
page and its ``/config`` like a browser, and later signs out through the logout form. Resident
memory (VmRSS of the server process) is read at start, after a warm-up user, after everyone
signed in, after everyone signed out, and after a short pause. The bare ORIGIN.md app runs the
same page loads with its cookie ``/login`` for comparison: what grows there is Gradio's.

Run alone: ``python -m bench.bench_memory [--users N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from bench._common import (
    PASSWORD,
    Section,
    ServerProcess,
    pin_load_generator,
    scratch_dir,
    seed_users,
    table,
)
from gradio_portal.testing import async_login, async_logout

MOUNT = "/app"


async def _each(names: list[str], work: Callable[[str], Awaitable[None]], concurrency: int) -> int:
    """Run ``work`` for every name, ``concurrency`` at a time; return how many failed."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for name in names:
        queue.put_nowait(name)
    failures = 0

    async def worker() -> None:
        nonlocal failures
        while not queue.empty():
            name = queue.get_nowait()
            try:
                await work(name)
            except (httpx.HTTPError, RuntimeError, AssertionError):  # no form: AssertionError
                failures += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return failures


async def _play(
    server: ServerProcess, names: list[str], portal: bool, concurrency: int
) -> tuple[list[tuple[str, float]], dict[str, int]]:
    clients = {name: httpx.AsyncClient(base_url=server.url, timeout=60) for name in names}
    points: list[tuple[str, float]] = []
    failures: dict[str, int] = {}
    try:

        async def sign_in_and_load(name: str) -> None:
            client = clients[name]
            if portal:
                answer = await async_login(client, name, PASSWORD)
                if answer.status_code != 303:
                    raise RuntimeError(f"login of {name} answered {answer.status_code}")
            else:
                (await client.get("/login", params={"username": name})).raise_for_status()
            (await client.get(MOUNT + "/", headers={"accept": "text/html"})).raise_for_status()
            (await client.get(MOUNT + "/config")).raise_for_status()

        async def sign_out(name: str) -> None:
            client = clients[name]
            if portal:
                answer = await async_logout(client)
                if answer.status_code != 303:
                    raise RuntimeError(f"logout answered {answer.status_code}")
            else:
                (await client.get("/logout")).raise_for_status()
            await client.aclose()

        warm, rest = names[:1], names[1:]
        await _each(warm, sign_in_and_load, 1)
        await _each(warm, sign_out, 1)
        points.append(("after 1 warm-up user (in and out)", server.rss_mib()))
        began = time.perf_counter()
        failures["sign in + page load"] = await _each(rest, sign_in_and_load, concurrency)
        points.append(
            (
                f"after {len(rest)} sign-ins + page loads ({time.perf_counter() - began:.0f} s)",
                server.rss_mib(),
            )
        )
        failures["sign out"] = await _each(rest, sign_out, concurrency)
        points.append((f"after {len(rest)} sign-outs", server.rss_mib()))
        await asyncio.sleep(5)
        points.append(("5 s later", server.rss_mib()))
        points.append(("peak during the run (VmHWM)", server.rss_mib("VmHWM")))
    finally:
        await asyncio.gather(*(c.aclose() for c in clients.values()))
    return points, failures


def run(users: int = 1000, concurrency: int = 4) -> Section:
    began = time.monotonic()
    pin_load_generator()
    results: dict[str, Any] = {}
    with scratch_dir("memory") as tmp:
        names = seed_users(tmp / "portal", users + 1)
        for kind, factory in (("portal", "portal_events"), ("bare", "bare_events")):
            with ServerProcess(factory, data_dir=tmp / kind) as server:
                start = server.rss_mib()
                points, failures = asyncio.run(_play(server, names, kind == "portal", concurrency))
                results[kind] = {"start": start, "points": points, "failures": failures}
    rows = []
    for kind, label in (("portal", "portal"), ("bare", "bare (ORIGIN.md)")):
        start = results[kind]["start"]
        rows.append([label, "at start", f"{start:.1f}", "", ""])
        warm = results[kind]["points"][0][1]
        for name, value in results[kind]["points"]:
            rows.append(
                [
                    label,
                    name,
                    f"{value:.1f}",
                    f"{value - start:+.1f}",
                    f"{value - warm:+.1f}",
                ]
            )
    portal_points = results["portal"]["points"]
    per_user_kib = (portal_points[1][1] - portal_points[0][1]) * 1024 / max(1, users)
    returned = portal_points[-2][1] - portal_points[0][1]
    failures = {k: v["failures"] for k, v in results.items()}
    body = (
        f"{users} users after one warm-up user, {concurrency} at a time; failures: {failures}. "
        "RSS is VmRSS of the server process in MiB.\n\n"
        + table(["app", "moment", "RSS MiB", "vs start", "vs warm"], rows)
        + f"\n\nPortal growth while {users} users were signed in: {per_user_kib:.1f} KiB per "
        f"user; after they all signed out the portal is {returned:+.1f} MiB from its warm "
        "state. Python's allocator keeps freed arenas, so RSS that does not fall back is not "
        "by itself a leak; growth that is the same on the bare app is Gradio's."
    )
    return Section(
        title="3. Memory: 1,000 logins, page loads and logouts",
        body=body,
        data=results,
        seconds=time.monotonic() - began,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    print(run(users=args.users, concurrency=args.concurrency).markdown())


if __name__ == "__main__":
    main()
