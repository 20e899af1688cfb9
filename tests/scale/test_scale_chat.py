"""The chat app across processes: a process killed mid-reply, a restart of all, a database cut.

Two real ``gradio-portal serve`` processes behind nginx serve the reference chat (the echo
backend, paced so that replies are still streaming when the test strikes) on PostgreSQL and
Redis reached through cuttable proxies.
"""

from __future__ import annotations

import json
import re
import secrets
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from tests.scale.harness import CHAT_PATH, PASSWORD, USERS, run_cluster

from gradio_portal.chat.backends import ChatRequest, EchoBackend
from gradio_portal.testing import GradioEvents, login
from gradio_portal.testing.cluster import Cluster

pytestmark = pytest.mark.scale

CHAT = CHAT_PATH
TOKENS_PER_SECOND = 20.0
REPLY_TOKENS = 120  # 6 s per reply: long enough to strike mid-stream


@pytest.fixture(scope="module")
def cluster(
    scale_services: tuple[str, str],
    module_database: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Cluster]:
    workdir: Path = tmp_path_factory.mktemp("chat-cluster")
    with run_cluster(
        workdir,
        processes=2,
        database_url=module_database,
        redis_url=scale_services[1],
        target=None,  # the built-in app: the chat, at CHAT_PATH
        path=None,
        extra_env={
            "GRADIO_PORTAL_CHAT_BACKEND": "echo",
            "GRADIO_PORTAL_CHAT_ECHO_TOKENS_PER_SECOND": str(TOKENS_PER_SECOND),
            "GRADIO_PORTAL_CHAT_ECHO_REPLY_TOKENS": str(REPLY_TOKENS),
        },
    ) as running:
        yield running
    # Whatever happened behind it, nginx never passed on a 500.
    statuses = re.findall(r'" (\d{3}) ', running.nginx.access_log.read_text())
    assert "500" not in statuses


def full_reply(message: str) -> str:
    backend = EchoBackend(reply_tokens=REPLY_TOKENS)
    return " ".join(backend.words(ChatRequest(message=message)))


@dataclass
class Turn:
    """One user sending one chat message through nginx, read as the browser reads it."""

    client: httpx.Client
    message: str
    acknowledged: threading.Event = field(default_factory=threading.Event)
    generating: int = 0
    outcome: str = "running"

    def run(self) -> None:
        events = GradioEvents(self.client, CHAT)
        session_hash = secrets.token_hex(8)
        try:
            # As the browser does: `send` stores the message and updates the page, then
            # `stream_reply` (same page, same session hash) streams the answer.
            started = events.call("send", [self.message, None, None], session_hash=session_hash)
            if not started.success:
                self.outcome = f"send failed: {started.error}"
                return
            self.acknowledged.set()
            joined, _ = events.join("stream_reply", [None], session_hash=session_hash)
            if joined.status_code != 200:
                self.outcome = f"join {joined.status_code}"
                return
            with self.client.stream(
                "GET",
                CHAT + "/gradio_api/queue/data",
                params={"session_hash": session_hash},
                timeout=60,
            ) as stream:
                for line in stream.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    message = json.loads(line[5:])
                    kind = message.get("msg")
                    if kind == "process_generating":
                        self.generating += 1
                    elif kind == "process_completed":
                        self.outcome = "completed" if message.get("success") else "failed"
                        return
            self.outcome = "stream ended"
        except (httpx.HTTPError, AssertionError) as exc:
            self.outcome = f"broken: {type(exc).__name__}"


def start_turns(turns: list[Turn]) -> list[threading.Thread]:
    threads = [threading.Thread(target=turn.run) for turn in turns]
    for thread in threads:
        thread.start()
    return threads


def join_all(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive()


def user_client(cluster: Cluster, username: str, *, on: int | None = None) -> httpx.Client:
    """A signed-in browser; ``on`` picks the process nginx sends it to."""
    for _ in range(50):
        client = httpx.Client(base_url=cluster.url, timeout=30)
        client.cookies.set("gp_affinity", secrets.token_hex(16))
        if on is None or cluster.process_of(client) == on:
            assert login(client, username, PASSWORD).status_code == 303
            return client
        client.close()
    raise AssertionError(f"no affinity cookie found that maps to process {on}")


def stored_turns(cluster: Cluster, username: str) -> list[tuple[int, str, str, bool]]:
    """(conversation id, role, content, complete) of every message of ``username``."""
    engine = create_engine(cluster.database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT c.id, m.role, m.content, m.complete FROM messages m "
                    "JOIN conversations c ON c.id = m.conversation_id "
                    "JOIN users u ON u.id = c.user_id WHERE u.username = :name ORDER BY m.id"
                ),
                {"name": username},
            ).all()
    finally:
        engine.dispose()
    return [(int(r[0]), str(r[1]), str(r[2]), bool(r[3])) for r in rows]


def open_page(client: httpx.Client, conversation_id: int) -> str:
    """Reload the conversation's page and run its load event; the chatbot's messages."""
    page = f"{CHAT}/?c={conversation_id}"
    assert client.get(page, headers={"accept": "text/html"}).status_code == 200
    result = GradioEvents(client, CHAT, page=page).call("open_page", [])
    return json.dumps(result.output[0])


def test_a_process_killed_mid_reply_loses_nothing_acknowledged(cluster: Cluster) -> None:
    # Three users on the process about to die, two on the one that lives.
    doomed = [user_client(cluster, name, on=0) for name in USERS[:3]]
    living = [user_client(cluster, USERS[3], on=1), user_client(cluster, USERS[0], on=1)]
    turns = [
        Turn(client, f"message {i} from {'doomed' if client in doomed else 'living'}")
        for i, client in enumerate(doomed + living)
    ]
    try:
        threads = start_turns(turns)
        for turn in turns:
            assert turn.acknowledged.wait(30), turn.outcome
        time.sleep(2.0)  # past the chat's 1-second save interval, well before the end
        dead_pid = cluster.supervisor.processes[0].pid
        cluster.supervisor.send_signal(0, signal.SIGKILL)
        join_all(threads)

        doomed_turns, living_turns = turns[:3], turns[3:]
        assert all(t.outcome != "completed" for t in doomed_turns), [t.outcome for t in turns]
        assert all(t.outcome == "completed" for t in living_turns), [t.outcome for t in turns]

        for name, turn in zip(USERS[:3], doomed_turns, strict=True):
            rows = [r for r in stored_turns(cluster, name) if r[2] == turn.message]
            assert len(rows) == 1, "the acknowledged user message is stored"
            conversation_id = rows[0][0]
            messages = [r for r in stored_turns(cluster, name) if r[0] == conversation_id]
            assert [(r[1], r[3]) for r in messages] == [("user", True), ("assistant", False)]
            partial = messages[1][2]
            # The cut-off reply is kept (what was saved before the kill) and marked incomplete.
            assert partial and full_reply(turn.message).startswith(partial)
            assert len(partial) < len(full_reply(turn.message))

            # A reload lands on the live process, with the conversation intact.
            client = doomed[USERS.index(name)]
            assert cluster.process_of(client) == 1
            shown = open_page(client, conversation_id)
            assert turn.message in shown and partial[:40] in shown

        for turn in living_turns:
            name = USERS[3] if turn.client is living[0] else USERS[0]
            rows = [
                r
                for r in stored_turns(cluster, name)
                if r[0] == _conversation_of(cluster, name, turn.message)
            ]
            assert [(r[1], r[3]) for r in rows] == [("user", True), ("assistant", True)]
            assert rows[1][2] == full_reply(turn.message)

        # The supervisor brings the dead process back.
        cluster.supervisor.wait_ready(90)
        assert cluster.supervisor.processes[0].pid != dead_pid
    finally:
        for client in doomed + living:
            client.close()


def _conversation_of(cluster: Cluster, username: str, message: str) -> int:
    return next(r[0] for r in stored_turns(cluster, username) if r[2] == message)


def test_restarting_every_process_keeps_sessions_and_conversations(cluster: Cluster) -> None:
    # The previous test killed a process: wait until its replacement serves, or nginx's
    # failover could send `send` and `stream_reply` of one page to different processes.
    cluster.supervisor.wait_ready(timeout=60)
    client = user_client(cluster, "bob")
    try:
        turn = Turn(client, "remember me across restarts")
        join_all(start_turns([turn]))
        assert turn.outcome == "completed"
        conversation_id = _conversation_of(cluster, "bob", turn.message)

        old = {p.pid for p in cluster.supervisor.processes}
        cluster.supervisor.restart_all(rolling=False, timeout=120)
        assert not old & {p.pid for p in cluster.supervisor.processes}

        # Still signed in (the session is in Redis), and the conversation is all there.
        shown = open_page(client, conversation_id)
        assert turn.message in shown and full_reply(turn.message)[-40:] in shown
        follow_up = Turn(client, "and after the restart")
        join_all(start_turns([follow_up]))
        assert follow_up.outcome == "completed"
    finally:
        client.close()


def test_postgres_cut_mid_chat_then_restored(cluster: Cluster) -> None:
    pids = {p.pid for p in cluster.supervisor.processes}
    clients = [user_client(cluster, name) for name in USERS[:3]]
    turns = [Turn(client, f"before the outage {i}") for i, client in enumerate(clients)]
    try:
        threads = start_turns(turns)
        for turn in turns:
            assert turn.acknowledged.wait(30), turn.outcome
        time.sleep(1.5)
        cluster.postgres_proxy.cut()
        try:
            time.sleep(0.5)
            with httpx.Client(base_url=cluster.url, timeout=30) as probe:
                health = probe.get("/healthz")
                assert health.status_code == 503
                assert health.json()["database"] == "unavailable"
            # A message sent now is refused, not acknowledged and then lost.
            refused = Turn(clients[0], "during the outage")
            join_all(start_turns([refused]))
            assert not refused.acknowledged.is_set()
            assert refused.outcome.startswith("send failed: The portal cannot reach its database")
            time.sleep(1.0)
        finally:
            cluster.postgres_proxy.restore()
        join_all(threads)

        for name, turn in zip(USERS[:3], turns, strict=True):
            stored = stored_turns(cluster, name)
            # Every acknowledged message is there; its reply keeps what was saved.
            conversation_id = _conversation_of(cluster, name, turn.message)
            rows = [r for r in stored if r[0] == conversation_id]
            assert [r[1] for r in rows] == ["user", "assistant"]
            assert full_reply(turn.message).startswith(rows[1][2])
            assert all(r[2] != "during the outage" for r in stored)

        # Back to normal without a restart.
        after = Turn(clients[1], "after the outage")
        join_all(start_turns([after]))
        assert after.outcome == "completed"
        rows = [
            r
            for r in stored_turns(cluster, USERS[1])
            if r[0] == _conversation_of(cluster, USERS[1], after.message)
        ]
        assert rows[-1][2:] == (full_reply(after.message), True)
        assert {p.pid for p in cluster.supervisor.processes} == pids
    finally:
        for client in clients:
            client.close()
