"""ChatService with a real SQLite database and real backends, in process: how replies are kept."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from gradio_portal import User
from gradio_portal.chat.backends import ChatRequest, EchoBackend
from gradio_portal.chat.repository import ConversationRepository
from gradio_portal.chat.service import STOPPED, UNEXPECTED, ChatService, ReplyUpdate
from gradio_portal.storage import Database, upgrade
from gradio_portal.storage.models import AccountRow

ALICE = User(id=1, username="alice", display_name="Alice")


@pytest.fixture
def repository(tmp_path: Path) -> ConversationRepository:
    url = f"sqlite:///{tmp_path / 'chat.db'}"
    upgrade(url)
    database = Database(url)
    with database.session() as session:
        session.add(AccountRow(username="alice", display_name="Alice", password_hash=None))
    return ConversationRepository(database)


class Breaks:
    """A backend that sends a few words, then fails the way a bug would (not a BackendError)."""

    name = "breaks"

    async def stream(self, request: ChatRequest) -> AsyncIterator[str]:
        yield "partial "
        yield "text"
        raise RuntimeError("bug in the backend")


def service(repository: ConversationRepository, backend: Any, **options: Any) -> ChatService:
    return ChatService(repository, backend, stream_interval=0.02, **options)


async def run_turn(chat: ChatService, text: str = "Hello") -> tuple[int, list[ReplyUpdate]]:
    turn = await chat.start(ALICE, None, text)
    updates = [update async for update in chat.reply(ALICE, turn)]
    return turn.reply_id, updates


def reply_row(repository: ConversationRepository, conversation_id: int = 1) -> Any:
    found = repository.messages(ALICE.id, conversation_id)
    assert found is not None
    return found[1][-1]


def test_updates_are_cumulative_and_the_reply_is_stored_complete(
    repository: ConversationRepository,
) -> None:
    chat = service(repository, EchoBackend(tokens_per_second=200, reply_tokens=20))
    _, updates = asyncio.run(run_turn(chat))
    growing = [u.text for u in updates if not u.done]
    assert len(growing) >= 2
    assert all(len(b) > len(a) and b.startswith(a) for a, b in itertools.pairwise(growing))
    assert updates[-1] == ReplyUpdate(growing[-1], done=True)
    stored = reply_row(repository)
    assert (stored.content, stored.complete, stored.error) == (updates[-1].text, True, None)


def test_writes_are_coalesced_not_one_per_token(repository: ConversationRepository) -> None:
    # 100 tokens in about a second, saved every 0.25 s: a handful of writes, not a hundred.
    chat = service(
        repository, EchoBackend(tokens_per_second=100, reply_tokens=100), save_interval=0.25
    )
    writes: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("UPDATE messages"):
            writes.append(statement)

    event.listen(repository.database.engine, "before_cursor_execute", count)
    _, updates = asyncio.run(run_turn(chat))
    assert 2 <= len(writes) <= 7, len(writes)
    assert len(updates) <= 60


def test_an_unexpected_failure_keeps_the_text_and_says_so(
    repository: ConversationRepository,
) -> None:
    _, updates = asyncio.run(run_turn(service(repository, Breaks())))
    assert updates[-1] == ReplyUpdate("partial text", done=True, error=UNEXPECTED)
    stored = reply_row(repository)
    assert (stored.content, stored.complete, stored.error) == ("partial text", False, UNEXPECTED)


@pytest.mark.parametrize("how", ["aclose", "cancel"])
def test_a_stopped_reply_keeps_its_partial_text(
    repository: ConversationRepository, how: str
) -> None:
    chat = service(repository, EchoBackend(tokens_per_second=50, reply_tokens=500))

    async def stop_after_some_text() -> str:
        turn = await chat.start(ALICE, None, "Talk for a while")
        seen = ""
        if how == "aclose":
            async with contextlib.aclosing(chat.reply(ALICE, turn)) as updates:
                async for update in updates:
                    seen = update.text
                    if len(seen) > 40:
                        break  # leaving the block closes the generator, like Gradio does
            return seen

        async def consume() -> None:
            nonlocal seen
            async for update in chat.reply(ALICE, turn):
                seen = update.text

        task = asyncio.create_task(consume())
        while len(seen) <= 40:
            await asyncio.sleep(0.01)
        task.cancel()  # like Gradio's cancel route: the task dies wherever it awaits
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return seen

    seen = asyncio.run(stop_after_some_text())
    stored = reply_row(repository)
    assert stored.error == STOPPED and not stored.complete
    assert stored.content.startswith(seen) and len(stored.content) < 500


def test_replies_streaming_together_share_their_progress_writes(
    repository: ConversationRepository,
) -> None:
    # Five replies of about a second each, saved every 0.25 s: a handful of writes for all five
    # together (one statement run for every reply), not a handful per reply.
    chat = service(
        repository, EchoBackend(tokens_per_second=100, reply_tokens=100), save_interval=0.25
    )
    progress_writes: list[int] = []
    seen_midway: list[list[str]] = []

    def count(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.startswith("UPDATE messages") and isinstance(parameters, list):
            progress_writes.append(len(parameters))

    event.listen(repository.database.engine, "before_cursor_execute", count)

    async def five_turns() -> list[list[ReplyUpdate]]:
        turns = [await chat.start(ALICE, None, f"Hello {n}") for n in range(5)]

        async def consume(turn: Any) -> list[ReplyUpdate]:
            return [update async for update in chat.reply(ALICE, turn)]

        async def look_midway() -> None:
            await asyncio.sleep(0.6)
            seen_midway.append(
                [reply_row(repository, turn.conversation.id).content for turn in turns]
            )

        *results, _ = await asyncio.gather(*(consume(t) for t in turns), look_midway())
        return results

    results = asyncio.run(five_turns())
    assert 2 <= len(progress_writes) <= 6, progress_writes
    assert max(progress_writes) >= 4  # the replies went out together
    # Half-way through, every reply's text so far was already in the database.
    assert all(text.startswith("You said: Hello") for text in seen_midway[0]), seen_midway
    for conversation_id, updates in enumerate(results, start=1):
        stored = reply_row(repository, conversation_id)
        assert (stored.content, stored.complete) == (updates[-1].text, True)
    assert chat.streaming == 0


def test_a_late_progress_write_never_overwrites_a_finished_reply(
    repository: ConversationRepository,
) -> None:
    done = repository.begin_turn(ALICE.id, None, "a", title="a", context_chars=100, recent_limit=5)
    stopped = repository.begin_turn(
        ALICE.id, None, "b", title="b", context_chars=100, recent_limit=5
    )
    repository.save_reply(ALICE.id, done.reply_id, "the whole reply", complete=True)
    repository.save_reply(ALICE.id, stopped.reply_id, "cut", complete=False, error=STOPPED)
    repository.save_progress(
        [(ALICE.id, done.reply_id, "the whole"), (ALICE.id, stopped.reply_id, "c")]
    )
    assert reply_row(repository, done.conversation.id).content == "the whole reply"
    assert reply_row(repository, stopped.conversation.id).content == "cut"


def test_a_progress_write_for_someone_elses_reply_changes_nothing(
    repository: ConversationRepository,
) -> None:
    turn = repository.begin_turn(ALICE.id, None, "a", title="a", context_chars=100, recent_limit=5)
    repository.save_progress([(ALICE.id + 1, turn.reply_id, "not yours")])
    assert reply_row(repository, turn.conversation.id).content == ""


def test_updates_space_out_while_more_replies_stream_than_the_budget_allows(
    repository: ConversationRepository,
) -> None:
    chat = ChatService(repository, EchoBackend(), stream_interval=0.1, stream_budget=800)
    assert chat.update_interval() == 0.1
    chat.streaming = 80
    assert chat.update_interval() == 0.1
    chat.streaming = 200
    assert chat.update_interval() == pytest.approx(0.25)
    unbounded = ChatService(repository, EchoBackend(), stream_interval=0.1, stream_budget=0)
    unbounded.streaming = 10_000
    assert unbounded.update_interval() == 0.1
