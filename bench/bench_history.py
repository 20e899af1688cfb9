"""5. History size: opening a 10,000-message conversation and listing 1,000 conversations.

The portal database is seeded directly through the SQLAlchemy models (``Conversation``,
``Message``): one user owns a conversation of 10,000 messages and one of 10; another owns
1,000 conversations; a third owns 10. Each measurement is repeated and compared with the small
case in the same run, so the ratio shows what the size costs:

- opening a conversation the way the browser does: the chat page's load event (``open_page``)
  with ``?c=<id>``, over ``queue/join`` + ``queue/data``, until the chatbot is filled;
- reading it whole through the REST API (``GET /api/conversations/<id>``) and its Markdown
  export;
- listing conversations: the REST API's first page, all pages (100 at a time), and the
  sidebar (the same load event on ``/chat/`` without ``?c=``).

Run alone: ``python -m bench.bench_history [--repeat N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench._common import (
    Section,
    ServerProcess,
    pin_load_generator,
    ratio,
    scratch_dir,
    seed_sessions,
    seed_users,
    session_cookie_name,
    summarize,
    table,
)
from gradio_portal.testing import AsyncGradioEvents, event_ids, new_session_hash

CHAT = "/chat"
BIG_MESSAGES = 10_000
MANY_CONVERSATIONS = 1_000
SMALL = 10


def seed_history(data_dir: Path, users: dict[str, str]) -> dict[str, int]:
    """Conversations for the seeded users; returns the ids of the big and the small one."""
    from sqlalchemy import select

    from gradio_portal import PortalSettings
    from gradio_portal.storage import Database
    from gradio_portal.storage.models import AccountRow, Conversation, Message

    database = Database(PortalSettings(data_dir=data_dir).resolved_database_url)
    start = datetime.now(UTC) - timedelta(days=30)
    text = "A message of ordinary length, about two hundred characters, with some words in it. " * 2
    try:
        with database.session() as session:
            ids = {
                row.username: row.id
                for row in session.scalars(
                    select(AccountRow).where(AccountRow.username.in_(users.values()))
                )
            }

            def conversation(user: str, title: str, at: datetime) -> Conversation:
                row = Conversation(
                    user_id=ids[users[user]], title=title, created_at=at, updated_at=at
                )
                session.add(row)
                return row

            big = conversation("reader", "Ten thousand messages", start)
            small = conversation("reader", "Ten messages", start)
            session.flush()
            for row, count in ((big, BIG_MESSAGES), (small, SMALL)):
                session.add_all(
                    Message(
                        conversation_id=row.id,
                        role="user" if i % 2 == 0 else "assistant",
                        content=f"{i}: {text}",
                        complete=True,
                        created_at=start + timedelta(seconds=i),
                    )
                    for i in range(count)
                )
            for user, count in (("lister", MANY_CONVERSATIONS), ("few", SMALL)):
                rows = [
                    conversation(user, f"Conversation {i}", start + timedelta(minutes=i))
                    for i in range(count)
                ]
                session.flush()
                session.add_all(
                    Message(
                        conversation_id=row.id,
                        role=role,
                        content=text,
                        complete=True,
                        created_at=row.created_at,
                    )
                    for row in rows
                    for role in ("user", "assistant")
                )
            session.flush()
            return {"big": big.id, "small": small.id}
    finally:
        database.dispose()


async def _repeat(work: Callable[[], Awaitable[int]], repeat: int) -> tuple[list[float], int]:
    """Time ``work`` ``repeat`` times after one warm-up; returns seconds and its last size."""
    size = await work()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        size = await work()
        times.append(time.perf_counter() - started)
    return times, size


async def _measure(
    url: str, cookies: dict[str, str], ids: dict[str, int], repeat: int
) -> dict[str, tuple[list[float], int]]:
    clients = {}
    for role, token in cookies.items():
        client = httpx.AsyncClient(base_url=url, timeout=120)
        client.cookies.set(session_cookie_name(), token)
        clients[role] = client
    try:
        config = await AsyncGradioEvents(clients["reader"], CHAT).config()
        open_page = event_ids(config)["open_page"]

        def page_load(role: str, query: str) -> Callable[[], Awaitable[int]]:
            async def work() -> int:
                app = AsyncGradioEvents(clients[role], CHAT, page=f"{CHAT}/{query}")
                result = await app.stream(open_page, [], new_session_hash(), timeout=120)
                if not result.success:
                    raise RuntimeError(f"open_page failed: {result.error}")
                return len(str(result.last))

            return work

        def get(role: str, path: str) -> Callable[[], Awaitable[int]]:
            async def work() -> int:
                response = await clients[role].get(path)
                response.raise_for_status()
                return len(response.content)

            return work

        def all_pages(role: str) -> Callable[[], Awaitable[int]]:
            async def work() -> int:
                size, offset = 0, 0
                while True:
                    response = await clients[role].get(
                        "/api/conversations", params={"limit": 100, "offset": offset}
                    )
                    response.raise_for_status()
                    body = response.json()
                    size += len(response.content)
                    offset += 100
                    if offset >= body["total"]:
                        return size

            return work

        cases: dict[str, Callable[[], Awaitable[int]]] = {
            "open big": page_load("reader", f"?c={ids['big']}"),
            "open small": page_load("reader", f"?c={ids['small']}"),
            "api read big": get("reader", f"/api/conversations/{ids['big']}"),
            "api read small": get("reader", f"/api/conversations/{ids['small']}"),
            "export big": get("reader", f"/api/conversations/{ids['big']}/export.md"),
            "export small": get("reader", f"/api/conversations/{ids['small']}/export.md"),
            "list first page many": get("lister", "/api/conversations?limit=100"),
            "list first page few": get("few", "/api/conversations?limit=100"),
            "list all many": all_pages("lister"),
            "list all few": all_pages("few"),
            "sidebar many": page_load("lister", ""),
            "sidebar few": page_load("few", ""),
        }
        return {name: await _repeat(work, repeat) for name, work in cases.items()}
    finally:
        await asyncio.gather(*(c.aclose() for c in clients.values()))


ROWS = (
    (
        "open big",
        "open small",
        f"open a conversation in the page (load event, ?c=): {BIG_MESSAGES:,} vs {SMALL} messages",
    ),
    (
        "api read big",
        "api read small",
        f"REST `GET /api/conversations/<id>`: {BIG_MESSAGES:,} vs {SMALL} messages",
    ),
    ("export big", "export small", f"Markdown export: {BIG_MESSAGES:,} vs {SMALL} messages"),
    (
        "list first page many",
        "list first page few",
        f"REST list, first 100: {MANY_CONVERSATIONS:,} vs {SMALL} conversations",
    ),
    (
        "list all many",
        "list all few",
        f"REST list, every page of 100: {MANY_CONVERSATIONS:,} vs {SMALL} conversations",
    ),
    (
        "sidebar many",
        "sidebar few",
        f"sidebar (page load event without ?c=): {MANY_CONVERSATIONS:,} vs {SMALL} conversations",
    ),
)


def run(repeat: int = 20) -> Section:
    began = time.monotonic()
    pin_load_generator()
    with scratch_dir("history") as tmp:
        data_dir = tmp / "portal"
        roles = {"reader": "user0000", "lister": "user0001", "few": "user0002"}
        seed_users(data_dir, len(roles))
        seeded = time.perf_counter()
        ids = seed_history(data_dir, roles)
        seed_seconds = time.perf_counter() - seeded
        tokens = dict(zip(roles, seed_sessions(data_dir, list(roles.values())), strict=True))
        with ServerProcess("portal_chat", data_dir=data_dir, options={}) as server:
            measured = asyncio.run(_measure(server.url, tokens, ids, repeat))
    rows = []
    data: dict[str, Any] = {}
    for big, small, label in ROWS:
        b, s = summarize(measured[big][0]), summarize(measured[small][0])
        rows.append(
            [
                label,
                f"{b.median * 1000:.1f}",
                f"{b.p90 * 1000:.1f}",
                f"{b.p99 * 1000:.1f}",
                f"{measured[big][1] / 1024:.0f}",
                f"{s.median * 1000:.1f}",
                ratio(b.median, s.median),
            ]
        )
        data[big] = b.median
        data[small] = s.median
    body = (
        f"Seeded through the SQLAlchemy models in {seed_seconds:.1f} s; {repeat} sequential "
        "repetitions per case after one warm-up, one user at a time. Times in ms, from the "
        "request to the last byte (page load event: `queue/join` to `process_completed`).\n\n"
        + table(
            [
                "what",
                "large: median ms",
                "p90 ms",
                "p99 ms",
                "response KiB",
                "small: median ms",
                "ratio large / small",
            ],
            rows,
        )
        + "\n\nThe page shows only the latest messages of a conversation "
        "(`ChatService.display_limit`) and the sidebar the latest 50 conversations, so "
        "their cost should barely grow; the REST read and the export return everything."
    )
    return Section(
        title="5. History size: 10,000 messages, 1,000 conversations",
        body=body,
        data=data,
        seconds=time.monotonic() - began,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    print(run(repeat=args.repeat).markdown())


if __name__ == "__main__":
    main()
