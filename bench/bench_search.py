"""7. Conversation search: one user's 10,000 conversations of 20 messages, on a SQLite file.

The portal database is migrated (so the search tables and their triggers exist) and seeded
through SQLAlchemy Core, one ``executemany`` per table in one transaction: one user owns
10,000 conversations of 20 messages each (200,000 messages, indexed by the triggers as they
are inserted), three other users 200 conversations each. Texts are drawn from a fixed
vocabulary with a Zipf-like spread (a few very common words, a long tail of rare ones), so
"the" is in nearly every conversation and a planted word in only a few.

Each query runs through :class:`gradio_portal.chat.search.ConversationSearch` (first page of
20, with the total), repeated after one warm-up; then, once more, through the HTTP API
(``GET /api/conversations?q=``) of a served portal, from the request to the last byte.

Run alone: ``python -m bench.bench_search [--repeat N] [--conversations N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
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
from bench._common import percentile as _percentile

CONVERSATIONS = 10_000
MESSAGES = 20
OTHER_USERS = 3
OTHER_CONVERSATIONS = 200
PAGE = 20
TARGET_MS = 50.0
RARE = "zanzibar"
RARE_CONVERSATIONS = 5

QUERIES = (
    ("rare word", RARE),
    ("common word", "the"),
    ("two words", "lisbon budget"),
    ("prefix", "lisb"),
    ("no match", "qxjzv"),
    ("common word, page 11", "the"),
)
OFFSETS = {"common word, page 11": 10 * PAGE}

_COMMON = (
    "the",
    "a",
    "to",
    "of",
    "and",
    "in",
    "is",
    "it",
    "for",
    "that",
    "you",
    "with",
    "on",
    "this",
    "be",
    "can",
    "are",
    "as",
    "not",
    "or",
    "have",
    "your",
    "from",
    "at",
    "by",
    "but",
    "if",
    "will",
    "so",
    "do",
    "we",
    "an",
    "was",
    "what",
    "there",
    "they",
    "which",
    "about",
    "more",
    "how",
    "all",
    "one",
    "when",
    "would",
    "should",
    "could",
    "then",
    "also",
    "just",
    "some",
    "like",
    "into",
    "than",
    "them",
    "their",
    "these",
    "there",
)
_TOPICS = (
    "lisbon",
    "porto",
    "madrid",
    "berlin",
    "paris",
    "budget",
    "hotel",
    "flight",
    "train",
    "museum",
    "python",
    "database",
    "query",
    "index",
    "server",
    "deploy",
    "invoice",
    "meeting",
    "report",
    "garden",
    "recipe",
    "coffee",
    "bicycle",
    "camera",
    "contract",
    "lawyer",
    "doctor",
    "school",
    "holiday",
    "weather",
    "market",
)


def _vocabulary(rng: random.Random, size: int = 4_000) -> list[str]:
    syllables = [c + v for c in "bcdfghklmnprstvwz" for v in "aeiou"] + ["an", "er", "in", "on"]
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return sorted(words)


class _Texts:
    """Sentences from a fixed vocabulary: function words often, topics sometimes, a long tail."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        tail = _vocabulary(self.rng)
        self.words = [*_COMMON, *_TOPICS, *tail]
        # Zipf-like: the k-th word has weight 1/k (function words first, then topics, then tail).
        weights = [1 / (rank + 1) for rank in range(len(self.words))]
        total = 0.0
        self.cumulative = []
        for weight in weights:
            total += weight
            self.cumulative.append(total)

    def sentence(self, low: int, high: int) -> str:
        count = self.rng.randint(low, high)
        words = self.rng.choices(self.words, cum_weights=self.cumulative, k=count)
        words[0] = words[0].capitalize()
        return " ".join(words) + self.rng.choice((".", "?", "!", "."))


def seed_search(database_url: str, user_ids: list[int], conversations: int) -> dict[str, float]:
    """Conversations of ``user_ids[0]`` (and a few of the others'); returns seeding times."""
    from sqlalchemy import insert

    from gradio_portal.storage import Database
    from gradio_portal.storage.models import Conversation, Message

    texts = _Texts()
    rng = texts.rng
    now = datetime.now(UTC)
    owners = [(user_ids[0], conversations)] + [(u, OTHER_CONVERSATIONS) for u in user_ids[1:]]
    conversation_rows: list[dict[str, Any]] = []
    message_rows: list[dict[str, Any]] = []
    began = time.perf_counter()
    next_id = 1
    for user_id, count in owners:
        rare = set(rng.sample(range(count), RARE_CONVERSATIONS))
        for index in range(count):
            # Roughly in id order, with some older conversations active again lately.
            updated = now - timedelta(minutes=(count - index) * 30 + rng.randint(0, 600))
            created = updated - timedelta(hours=rng.randint(0, 48))
            conversation_rows.append(
                {
                    "id": next_id,
                    "user_id": user_id,
                    "title": texts.sentence(2, 6).rstrip(".?!"),
                    "created_at": created,
                    "updated_at": updated,
                }
            )
            for position in range(MESSAGES):
                user_turn = position % 2 == 0
                content = (
                    texts.sentence(6, 25)
                    if user_turn
                    else " ".join(texts.sentence(8, 20) for _ in range(rng.randint(2, 5)))
                )
                if index in rare and position == 7:
                    content += f" We could also visit {RARE.capitalize()} next year."
                message_rows.append(
                    {
                        "conversation_id": next_id,
                        "role": "user" if user_turn else "assistant",
                        "content": content,
                        "complete": True,
                        "created_at": created + timedelta(seconds=position),
                    }
                )
            next_id += 1
    generated = time.perf_counter()
    database = Database(database_url)
    try:
        with database.session() as session:
            connection = session.connection()
            connection.execute(insert(Conversation), conversation_rows)
            connection.execute(insert(Message), message_rows)
    finally:
        database.dispose()
    inserted = time.perf_counter()
    return {
        "messages": len(message_rows),
        "generate_s": generated - began,
        "insert_s": inserted - generated,
    }


def _time(work: Callable[[], int], repeat: int) -> tuple[list[float], int]:
    total = work()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        total = work()
        times.append(time.perf_counter() - started)
    return times, total


def measure_search(database_url: str, user_id: int, repeat: int) -> dict[str, Any]:
    from gradio_portal.chat.search import ConversationSearch
    from gradio_portal.storage import Database

    database = Database(database_url)
    search = ConversationSearch(database)
    try:
        results = {}
        for name, text in QUERIES:
            offset = OFFSETS.get(name, 0)

            def work(text: str = text, offset: int = offset) -> int:
                return search.search(user_id, text, limit=PAGE, offset=offset).total

            results[name] = _time(work, repeat)
        return results
    finally:
        database.dispose()


async def _measure_http(url: str, token: str, repeat: int) -> dict[str, tuple[list[float], int]]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        client.cookies.set(session_cookie_name(), token)
        results = {}
        for name, text in QUERIES:
            params: dict[str, str | int] = {
                "q": text,
                "limit": PAGE,
                "offset": OFFSETS.get(name, 0),
            }
            times = []
            total = 0
            for attempt in range(repeat + 1):
                started = time.perf_counter()
                response = await client.get("/api/conversations", params=params)
                elapsed = time.perf_counter() - started
                response.raise_for_status()
                total = int(response.json()["total"])
                if attempt:  # the first is the warm-up
                    times.append(elapsed)
            results[name] = (times, total)
        return results


def _user_ids(database_url: str, names: list[str]) -> list[int]:
    from sqlalchemy import select

    from gradio_portal.storage import Database
    from gradio_portal.storage.models import AccountRow

    database = Database(database_url)
    try:
        with database.session() as session:
            ids = dict(session.execute(select(AccountRow.username, AccountRow.id)).tuples().all())
        return [ids[name] for name in names]
    finally:
        database.dispose()


def _p95_ms(times: list[float]) -> float:
    return _percentile(sorted(times), 95) * 1000


def run(repeat: int = 30, conversations: int = CONVERSATIONS, http: bool = True) -> Section:
    began = time.monotonic()
    pin_load_generator()
    with scratch_dir("search") as tmp:
        data_dir: Path = tmp / "portal"
        names = seed_users(data_dir, 1 + OTHER_USERS)
        from gradio_portal import PortalSettings

        url = PortalSettings(data_dir=data_dir).resolved_database_url
        user_ids = _user_ids(url, names)
        seeded = seed_search(url, user_ids, conversations)
        direct = measure_search(url, user_ids[0], repeat)
        over_http: dict[str, tuple[list[float], int]] = {}
        if http:
            [token] = seed_sessions(data_dir, names[:1])
            with ServerProcess("portal_chat", data_dir=data_dir, options={}) as server:
                over_http = asyncio.run(_measure_http(server.url, token, max(10, repeat // 2)))
    rows = []
    data: dict[str, Any] = {"seeding": seeded}
    for name, text in QUERIES:
        times, total = direct[name]
        summary = summarize(times)
        median_ms, p95_ms = summary.median * 1000, _p95_ms(times)
        http_cell = "-"
        if name in over_http:
            http_times = over_http[name][0]
            http_cell = f"{summarize(http_times).median * 1000:.1f} / {_p95_ms(http_times):.1f}"
        rows.append(
            [
                name,
                f"`{text}`" + (f" (offset {OFFSETS[name]})" if name in OFFSETS else ""),
                f"{total:,}",
                f"{median_ms:.1f}",
                f"{p95_ms:.1f}",
                f"<= {TARGET_MS:.0f}",
                "PASS" if p95_ms <= TARGET_MS else "FAIL",
                http_cell,
            ]
        )
        data[name] = {"median_ms": median_ms, "p95_ms": p95_ms, "total": total}
    body = (
        f"{conversations:,} conversations of {MESSAGES} messages for one user "
        f"({int(seeded['messages']):,} messages in all, with {OTHER_USERS} other users' "
        f"{OTHER_CONVERSATIONS} conversations each) on a SQLite file, inserted with Core "
        f"`executemany` in one transaction in {seeded['insert_s']:.1f} s (the FTS5 triggers "
        f"indexing every row). First page of {PAGE} with the total; {repeat} repetitions per "
        "query after one warm-up, through `ConversationSearch` in this process. The target "
        f"applies to the p95 of the direct call. HTTP: `GET /api/conversations?q=` on a served "
        "portal (median / p95 ms, request to last byte).\n\n"
        + table(
            [
                "query",
                "text",
                "matching conversations",
                "median ms",
                "p95 ms",
                "target ms",
                "",
                "HTTP median / p95 ms",
            ],
            rows,
        )
    )
    return Section(
        title="7. Conversation search: 10,000 conversations of 20 messages (SQLite FTS5)",
        body=body,
        data=data,
        seconds=time.monotonic() - began,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--conversations", type=int, default=CONVERSATIONS)
    parser.add_argument("--no-http", action="store_true")
    args = parser.parse_args()
    print(
        run(repeat=args.repeat, conversations=args.conversations, http=not args.no_http).markdown()
    )


if __name__ == "__main__":
    main()
