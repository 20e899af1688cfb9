"""Profiles: where a server's event-loop thread spends its time under the benchmarks' loads.

Each profiled server runs under pyinstrument (``bench._serve --profile``) while the load plays;
every sample's time is then charged to the innermost frame on its stack that belongs to a
known owner (gradio_portal, gradio, fastapi, starlette, uvicorn, ...). Time in SQLAlchemy or
the json module called from the portal is therefore the portal's, time in orjson called from
Gradio is Gradio's. Time waiting in the selector is idle and left out.

pyinstrument samples one thread: the event loop's. Work in worker threads (the portal's
session lookup runs there, as do sync callbacks) is measured separately by
:mod:`bench.bench_micro`.

Run alone: ``python -m bench.bench_profile``.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import defaultdict
from pathlib import Path
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
from gradio_portal.testing import GradioEvents, login

# Checked in order: the first match names the owner of a frame.
OWNERS: tuple[tuple[str, str], ...] = (
    ("/gradio_portal/", "gradio_portal"),
    ("/bench/", "bench app code"),
    ("/gradio/", "gradio"),
    ("/gradio_client/", "gradio"),
    ("/fastapi/", "fastapi"),
    ("/starlette/", "starlette"),
    ("/uvicorn/", "uvicorn"),
    ("/sse_starlette/", "gradio"),
)
# With uvloop the loop itself is C code: time waiting for sockets shows up as the self time of
# the Python frame that started the loop (asyncio's runner), never as a selector frame.
IDLE_FILES = ("asyncio/runners.py", "asyncio/base_events.py", "/selectors.py")


def _owner(file_path: str | None) -> str | None:
    if not file_path:
        return None
    for marker, owner in OWNERS:
        if marker in file_path:
            return owner
    return None


def _is_idle(frame: Any) -> bool:
    return str(frame.file_path or "").endswith(IDLE_FILES)


def attribute(profile: Path, top: int = 12) -> tuple[dict[str, float], list[tuple[str, float]]]:
    """Seconds per owner (idle apart), and the portal functions that own the most time.

    A portal function's time is what is charged to the portal while it is the innermost portal
    frame on the stack: its own lines plus the libraries it calls (SQLAlchemy, json, ...), but
    not the Gradio app that a middleware calls.
    """
    from pyinstrument.session import Session

    session = Session.load(str(profile))
    root = session.root_frame()
    owners: dict[str, float] = defaultdict(float)
    portal_functions: dict[str, float] = defaultdict(float)
    if root is None:
        return {}, []

    def walk(frame: Any, owner: str, portal_key: str | None) -> None:
        direct = _owner(frame.file_path)
        own = direct or owner
        if direct == "gradio_portal":
            portal_key = f"{frame.function} ({Path(frame.file_path).name}:{frame.line_no})"
        elif direct is not None:
            portal_key = None
        # pyinstrument keeps a frame's own time in a synthetic "[self]" child.
        children = [child for child in frame.children if not child.is_synthetic]
        self_time = frame.time - sum(child.time for child in children)
        if self_time > 0:
            if _is_idle(frame):
                owners["idle"] += self_time
            else:
                owners[own] += self_time
                if own == "gradio_portal" and portal_key is not None:
                    portal_functions[portal_key] += self_time
        for child in children:
            walk(child, own, portal_key)

    walk(root, "other (stdlib, asyncio, anyio)", None)
    busiest = sorted(portal_functions.items(), key=lambda item: -item[1])[:top]
    return dict(owners), busiest


PORTAL_FUNCTIONS = (
    "\n\nThe portal functions charged the most, in seconds (own time plus the libraries they "
    "call, not the app a middleware calls):\n\n"
)


def _events_load(server: ServerProcess, name: str, count: int, portal: bool) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        if portal:
            login(client, name, PASSWORD)
        else:
            client.get("/login", params={"username": name}).raise_for_status()
        events = GradioEvents(client, "/app")
        for _ in range(count):
            events.call("greet", [])


def profile_events(tmp: Path, count: int) -> dict[str, Path]:
    (name,) = seed_users(tmp / "portal", 1)
    paths = {}
    for kind, factory in (("portal", "portal_events"), ("bare", "bare_events")):
        path = tmp / f"{kind}-events.pyisession"
        with ServerProcess(factory, data_dir=tmp / kind, profile=path) as server:
            _events_load(server, name, count, kind == "portal")
        paths[kind] = path
    return paths


def profile_chat(tmp: Path, users: int) -> dict[str, Path]:
    from bench.bench_chat import Variant, play_level, prepare_users

    paths = {}
    for variant in (Variant.portal(), Variant.bare(max_threads=1000)):
        path = tmp / f"{variant.key}-chat.pyisession"
        data_dir = tmp / variant.key
        cookies = prepare_users(variant, data_dir, users)
        with ServerProcess(
            variant.factory, data_dir=data_dir, options=variant.options, profile=path
        ) as server:
            asyncio.run(play_level(variant, server.url, cookies, users, timeout=60))
        paths[variant.key] = path
    return paths


def _owner_table(results: dict[str, dict[str, float]]) -> str:
    names = sorted({owner for owners in results.values() for owner in owners} - {"idle"})
    header = [
        "owner of the work",
        *(f"{kind} s" for kind in results),
        *(f"{kind} %" for kind in results),
    ]
    busy = {
        kind: sum(v for k, v in owners.items() if k != "idle") for kind, owners in results.items()
    }
    rows = []
    for owner in sorted(names, key=lambda n: -max(r.get(n, 0) for r in results.values())):
        rows.append(
            [
                owner,
                *(f"{results[kind].get(owner, 0):.2f}" for kind in results),
                *(
                    f"{100 * results[kind].get(owner, 0) / (busy[kind] or 1):.1f}"
                    for kind in results
                ),
            ]
        )
    rows.append(
        ["**busy total**", *(f"{busy[kind]:.2f}" for kind in results), *("100" for _ in results)]
    )
    rows.append(
        [
            "idle",
            *(f"{results[kind].get('idle', 0):.2f}" for kind in results),
            *("" for _ in results),
        ]
    )
    return table(header, rows)


def run(events: int = 400, chat_users: int = 50) -> Section:
    began = time.monotonic()
    pin_load_generator()
    parts = []
    data: dict[str, Any] = {}
    with scratch_dir("profile") as tmp:
        event_profiles = profile_events(tmp, events)
        owners = {kind: attribute(path)[0] for kind, path in event_profiles.items()}
        busiest = attribute(event_profiles["portal"])[1]
        data["events"] = owners
        parts.append(
            f"### Per-event path ({events} sequential greeting events)\n\n"
            + _owner_table(owners)
            + PORTAL_FUNCTIONS
            + table(["function", "s"], [[name, f"{secs:.3f}"] for name, secs in busiest])
        )
        if chat_users:
            chat_profiles = profile_chat(tmp, chat_users)
            chat_owners = {kind: attribute(path)[0] for kind, path in chat_profiles.items()}
            data["chat"] = chat_owners
            chat_busiest = attribute(chat_profiles["portal"])[1]
            parts.append(
                f"### Chat streaming ({chat_users} simultaneous users, one turn each)\n\n"
                + _owner_table(chat_owners)
                + PORTAL_FUNCTIONS
                + table(["function", "s"], [[name, f"{secs:.3f}"] for name, secs in chat_busiest])
            )
    body = (
        'pyinstrument (0.5 ms interval, `async_mode="disabled"`) on the server\'s event-loop '
        "thread. Each sample is charged to the innermost frame of a known package on its "
        "stack, so SQLAlchemy or `json` called by the portal count as the portal's. "
        "Profiling slows the server: compare shares, not absolute seconds, with the other "
        "tables. Worker-thread work is not in these samples (see the micro-benchmarks).\n\n"
        + "\n\n".join(parts)
    )
    return Section(
        title="Profiles: the portal's own cost and Gradio's",
        body=body,
        data=data,
        seconds=time.monotonic() - began,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--chat-users", type=int, default=50)
    args = parser.parse_args()
    print(run(events=args.events, chat_users=args.chat_users).markdown())


if __name__ == "__main__":
    main()
