"""Several real ``gradio-portal serve`` processes behind nginx, on PostgreSQL 15 and Redis 7.

One cluster (3 processes, started through gradio_portal.supervisor) serves the whole module,
because starting Gradio processes is the expensive part; the tests run in file order and each
leaves the cluster serving. PostgreSQL and Redis are reached through loopback proxies that the
outage tests cut and restore; the machine's own services are never touched.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from tests.scale.harness import PASSWORD, run_cluster

from gradio_portal.storage import Database
from gradio_portal.testing import GradioEvents, login, logout
from gradio_portal.testing.cluster import Cluster
from gradio_portal.users.tokens import AccessTokens

pytestmark = pytest.mark.scale

MOUNT = "/app"
SESSION_COOKIE = "gradio_portal_session"
AFFINITY_COOKIE = "gp_affinity"


@pytest.fixture(scope="module")
def cluster(
    scale_services: tuple[str, str],
    module_database: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Cluster]:
    workdir: Path = tmp_path_factory.mktemp("cluster")
    with run_cluster(
        workdir, processes=3, database_url=module_database, redis_url=scale_services[1]
    ) as running:
        yield running
    # Whatever the tests did to the cluster, no request escaped the portal as an unhandled
    # exception (a 500 with a traceback in the log).
    logs = running.logs()
    for sign in ("Exception in ASGI application", " 500 Internal Server Error"):
        at = logs.find(sign)
        assert at < 0, logs[max(0, at - 1000) : at + 5000]


def browser(cluster: Cluster, username: str | None = None) -> httpx.Client:
    client = httpx.Client(base_url=cluster.url, timeout=30)
    if username is not None:
        response = login(client, username, PASSWORD)
        assert response.status_code == 303, response.text[:500]
    return client


def direct(url: str, client: httpx.Client) -> httpx.Client:
    """A client for one process, bypassing nginx, carrying ``client``'s session cookie."""
    return httpx.Client(
        base_url=url, timeout=30, cookies={SESSION_COOKIE: client.cookies[SESSION_COOKIE]}
    )


def whoami(client: httpx.Client) -> tuple[str, int]:
    name, _, pid = GradioEvents(client, MOUNT).call("whoami", []).output[0].partition("@")
    return name, int(pid)


def test_login_through_nginx_and_events_stick_to_one_process(cluster: Cluster) -> None:
    with closing(browser(cluster)) as client:
        first = client.get("/login")
        assert first.status_code == 200
        # nginx hands out the affinity cookie on the first response, and only then.
        assert AFFINITY_COOKIE in client.cookies
        assert login(client, "alice", PASSWORD).status_code == 303
        assert all(
            not c.startswith(AFFINITY_COOKIE)
            for c in client.get("/app/").headers.get_list("set-cookie")
        )
        pids = {whoami(client) for _ in range(5)}
        assert len(pids) == 1 and next(iter(pids))[0] == "alice"
        events = GradioEvents(client, MOUNT)
        streamed = events.call("count", [5])
        assert streamed.output == ["alice:4"]
        # Streaming went through unbuffered: several generating messages, not one blob.
        assert len(streamed.generating) >= 4


def test_users_spread_over_processes(cluster: Cluster) -> None:
    seen: set[int] = set()
    for _ in range(8):
        with closing(browser(cluster, "bob")) as client:
            seen.add(whoami(client)[1])
    assert len(seen) >= 2, "the affinity hash sent eight new browsers to one process"


def test_a_session_is_honoured_by_every_process_and_logout_ends_it_everywhere(
    cluster: Cluster,
) -> None:
    client = browser(cluster, "carol")
    assert GradioEvents(client, MOUNT).call("remember", ["from nginx"]).output == ["stored"]
    others = [direct(url, client) for url in cluster.process_urls]
    try:
        pids = set()
        for other in others:
            assert other.get("/app/").status_code == 200
            name, pid = whoami(other)
            pids.add(pid)
            assert name == "carol"
            # A session write made on one process is read on every other.
            assert GradioEvents(other, MOUNT).call("recall", []).output == ["from nginx"]
        assert len(pids) == 3

        assert logout(client).status_code == 303

        # The very next request on every other process is refused.
        for other in others:
            assert other.get("/app/config").status_code == 401
            page = other.get("/app/", headers={"accept": "text/html"})
            assert page.status_code == 303 and page.headers["location"].startswith("/login")
    finally:
        client.close()
        for other in others:
            other.close()


def test_an_access_token_works_on_every_process_and_its_revocation_everywhere(
    cluster: Cluster, module_database: str
) -> None:
    database = Database(module_database)
    try:
        tokens = AccessTokens(database)
        token, made = tokens.create("bob", label="cluster script")
        bearer = {"authorization": f"Bearer {token}"}
        # Through nginx: the affinity cookie keeps a script's event on one process.
        with httpx.Client(base_url=cluster.url, headers=bearer, timeout=30) as script:
            assert GradioEvents(script, MOUNT).call("remember", ["by token"]).output == ["stored"]
        # Directly on every process: the same user, the same session (one per token).
        pids = set()
        for url in cluster.process_urls:
            with httpx.Client(base_url=url, headers=bearer, timeout=30) as script:
                name, pid = whoami(script)
                pids.add(pid)
                assert name == "bob"
                assert GradioEvents(script, MOUNT).call("recall", []).output == ["by token"]
        assert len(pids) == 3
        tokens.revoke(made.id)
        # With Redis, no process keeps a checked token: the next request is refused on all.
        for url in cluster.process_urls:
            answer = httpx.get(url + MOUNT + "/config", headers=bearer, timeout=30)
            assert answer.status_code == 401, url
            assert "tokens create" in answer.json()["detail"]
    finally:
        database.dispose()


def test_a_killed_process_is_replaced_and_its_users_move_on(cluster: Cluster) -> None:
    client = browser(cluster, "dave")
    try:
        events = GradioEvents(client, MOUNT)
        assert events.call("remember", ["before the crash"]).output == ["stored"]
        _, pid = whoami(client)
        index = next(p.index for p in cluster.supervisor.processes if p.pid == pid)
        restarts = cluster.supervisor.processes[index].restarts

        cluster.supervisor.send_signal(index, signal.SIGKILL)
        cluster.supervisor.processes[index].process.wait(timeout=10)  # type: ignore[union-attr]
        # nginx sends the user to a live process; the session is intact there.
        assert client.get("/app/").status_code == 200
        name, new_pid = whoami(client)
        assert (name, new_pid != pid) == ("dave", True)
        assert GradioEvents(client, MOUNT).call("recall", []).output == ["before the crash"]

        cluster.supervisor.wait_ready(90)
        assert cluster.supervisor.processes[index].restarts == restarts + 1
        assert cluster.supervisor.processes[index].pid != pid
    finally:
        client.close()


class Load:
    """A few users calling events in a loop until stopped; records every outcome."""

    def __init__(self, cluster: Cluster, users: tuple[str, ...]) -> None:
        self.cluster = cluster
        self.users = users
        self.outcomes: list[str] = []
        self.acknowledged: dict[str, str] = {}
        # What each user's own session holds after the load: read once everything is back.
        self.recalled: dict[str, str] = {}
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(u,)) for u in users]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        # Signing in takes a while on a busy machine: strike only once every user is working.
        deadline = time.monotonic() + 60
        try:
            while len(self.acknowledged) < len(self.users):
                assert time.monotonic() < deadline, self.outcomes[-10:]
                assert not any(o.startswith("login failed") for o in self.outcomes), self.outcomes
                time.sleep(0.05)
        except AssertionError:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _run(self, username: str) -> None:
        try:
            client = browser(self.cluster, username)
        except AssertionError as exc:
            self.outcomes.append(f"login failed: {exc}"[:200])
            return
        events = GradioEvents(client, MOUNT)
        n = 0
        deadline = time.monotonic() + 60  # bounded whatever happens
        try:
            while not self._stop.is_set() and time.monotonic() < deadline:
                n += 1
                note = f"{username}-{n}"
                try:
                    joined, session_hash = events.join("remember", [note])
                    if joined.status_code != 200:
                        self.outcomes.append(f"join {joined.status_code}")
                        time.sleep(0.1)
                        continue
                    result = _read_stream(client, session_hash)
                    self.outcomes.append(result)
                    if result == "ok":
                        self.acknowledged[username] = note
                except httpx.HTTPError as exc:
                    self.outcomes.append(type(exc).__name__)
                time.sleep(0.02)
            self.recalled[username] = events.call("recall", []).output[0]
        finally:
            client.close()


def _read_stream(client: httpx.Client, session_hash: str) -> str:
    import json

    with client.stream(
        "GET", MOUNT + "/gradio_api/queue/data", params={"session_hash": session_hash}
    ) as stream:
        if stream.status_code != 200:
            return f"data {stream.status_code}"
        for line in stream.iter_lines():
            if line.startswith("data:"):
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    if message.get("success"):
                        return "ok"
                    return "failed: " + str((message.get("output") or {}).get("error"))
    return "stream ended"


def _assert_clean_503(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text[:300]
    assert "Traceback" not in response.text
    assert "Temporarily unavailable" in response.text or "retry" in response.text.lower()


def test_redis_outage_gives_503_then_recovers_without_restart(cluster: Cluster) -> None:
    assert cluster.redis_proxy is not None
    pids = {p.pid for p in cluster.supervisor.processes}
    with Load(cluster, ("alice", "bob")) as load:
        time.sleep(0.5)
        before = dict(load.acknowledged)
        cluster.redis_proxy.cut()
        try:
            time.sleep(1.5)
            with httpx.Client(base_url=cluster.url, timeout=30) as probe:
                health = probe.get("/healthz")
                assert health.status_code == 503
                assert health.json()["sessions"] == "unavailable"
                assert health.json()["database"] == "ok"
            with closing(browser(cluster)) as anonymous:
                # Pages of signed-in users answer a clear 503 (no traceback, a retry hint).
                anonymous.cookies.set(SESSION_COOKIE, "x" * 43)
                page = anonymous.get("/app/", headers={"accept": "text/html"})
                _assert_clean_503(page)
            time.sleep(1.0)
        finally:
            cluster.redis_proxy.restore()
        time.sleep(2.5)
    outcomes = load.outcomes
    assert "join 503" in outcomes
    assert outcomes[-1] == "ok", outcomes[-10:]
    # An event caught mid-write by the cut fails (not acknowledged); later ones get 503.
    in_flight = [o for o in outcomes if o.startswith("failed")]
    assert len(in_flight) <= len(load.users), outcomes
    unexpected = [o for o in outcomes if o not in ("ok", "join 503", "data 503")]
    assert unexpected == in_flight, outcomes
    # Nothing acknowledged was lost: each user's last stored note is still in their session.
    assert before.keys() <= load.acknowledged.keys()
    assert load.recalled == load.acknowledged
    assert {p.pid for p in cluster.supervisor.processes} == pids  # recovered, no restart


def test_postgres_outage_gives_503_then_recovers_without_restart(cluster: Cluster) -> None:
    pids = {p.pid for p in cluster.supervisor.processes}
    with Load(cluster, ("carol",)) as load:
        time.sleep(0.5)
        cluster.postgres_proxy.cut()
        try:
            time.sleep(1.0)
            with closing(browser(cluster)) as client:
                health = client.get("/healthz")
                assert health.status_code == 503
                assert health.json()["database"] == "unavailable"
                # Signing in needs the users table: a clear 503 page, not a traceback.
                response = login(client, "dave", PASSWORD, headers={"accept": "text/html"})
                _assert_clean_503(response)
        finally:
            cluster.postgres_proxy.restore()
        time.sleep(1.0)
    # Sessions live in Redis: signed-in users kept working through the database outage.
    assert load.outcomes and set(load.outcomes) == {"ok"}, load.outcomes
    with closing(browser(cluster, "dave")) as client:
        assert client.get("/healthz").status_code == 200
        assert whoami(client)[0] == "dave"
    assert {p.pid for p in cluster.supervisor.processes} == pids
    with create_engine(cluster.database_url).connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM users")).scalar_one() == 4
