"""The same portal code on SQLite, PostgreSQL, and PostgreSQL + Redis; outages of each.

In-process servers (LiveServer), so these run in seconds; the multi-process picture is in
test_scale_cluster.py. Outages go through a TcpProxy the test cuts: the machine's PostgreSQL
and Redis keep running.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterator
from contextlib import closing
from typing import Any

import httpx
import pytest
from tests.conftest import PASSWORD
from tests.scale.apps import build_events_app

from gradio_portal import Portal, PortalSettings
from gradio_portal.sessions.redis import RedisSessionStore
from gradio_portal.sessions.sql import SQLSessionStore
from gradio_portal.testing import GradioEvents, LiveServer, TcpProxy, csrf_token, login, logout

pytestmark = pytest.mark.scale

MOUNT = "/app"


def _redis_via(url: str, proxy: TcpProxy) -> str:
    scheme, _, rest = url.partition("://")
    database = rest.partition("/")[2]
    return f"{scheme}://127.0.0.1:{proxy.port}/{database}"


def _postgres_via(url: str, proxy: TcpProxy) -> str:
    head, _, rest = url.partition("@")
    database = rest.partition("/")[2]
    return f"{head}@127.0.0.1:{proxy.port}/{database}"


@pytest.fixture(params=["sqlite", "postgresql", "postgresql+redis"])
def backend(request: pytest.FixtureRequest) -> dict[str, Any]:
    if request.param == "sqlite":
        return {}
    values: dict[str, Any] = {"database_url": request.getfixturevalue("fresh_database")}
    if request.param.endswith("+redis"):
        values["redis_url"] = request.getfixturevalue("redis_url")
    return values


# The Redis database is shared with other test runs, whose failed sign-ins from 127.0.0.1
# (or as "alice") must not throttle these tests' logins.
RELAXED = {
    "login_attempts_per_account": "100000/minute",
    "login_attempts_per_address": "100000/minute",
}


def start_portal(
    settings: PortalSettings, serve: Callable[[Any], LiveServer], *users: str
) -> tuple[Portal, LiveServer]:
    portal = Portal(settings=settings)
    for name in users:
        portal.accounts.create(name, PASSWORD)
    portal.mount(build_events_app(), MOUNT)
    return portal, serve(portal.app)


def test_the_same_code_runs_on_every_backend(
    backend: dict[str, Any],
    make_settings: Callable[..., PortalSettings],
    serve: Callable[[Any], LiveServer],
    signed_in_client: Callable[..., httpx.Client],
) -> None:
    portal, server = start_portal(make_settings(**backend, **RELAXED), serve, "alice")
    expected = RedisSessionStore if "redis_url" in backend else SQLSessionStore
    # The portal times every store call (sessions/observed.py) around the store it chose.
    assert isinstance(portal.sessions.store.store, expected)  # type: ignore[attr-defined]
    with closing(signed_in_client(server, "alice", PASSWORD)) as client:
        events = GradioEvents(client, MOUNT)
        assert events.call("whoami", []).output[0].startswith("alice@")
        assert events.call("remember", ["kept"]).output == ["stored"]
        assert events.call("recall", []).output == ["kept"]
        assert client.get("/healthz").json() == {
            "status": "ok",
            "database": "ok",
            "sessions": "ok",
        }
        assert logout(client).status_code == 303
        assert client.get(MOUNT + "/config").status_code == 401


def test_login_throttle_is_shared_through_redis(
    fresh_database: str,
    redis_url: str,
    make_settings: Callable[..., PortalSettings],
    serve: Callable[[Any], LiveServer],
) -> None:
    # Two portals (two processes in production) on one Redis count failures together.
    name = f"victim{secrets.token_hex(4)}"  # the Redis database is shared with other runs
    settings = make_settings(
        database_url=fresh_database,
        redis_url=redis_url,
        login_attempts_per_account="4/5 minutes",
        login_attempts_per_address=RELAXED["login_attempts_per_address"],
    )
    _, first = start_portal(settings, serve, name)
    _, second = start_portal(settings, serve)
    statuses = []
    for attempt in range(6):
        server = (first, second)[attempt % 2]
        with httpx.Client(base_url=server.url, timeout=30) as client:
            statuses.append(login(client, name, "wrong password").status_code)
    assert statuses == [401, 401, 401, 401, 429, 429]


# -- outages ----------------------------------------------------------------------------------


@pytest.fixture
def postgres_proxy(postgres_url: str) -> Iterator[TcpProxy]:
    with TcpProxy("127.0.0.1", 5432) as proxy:
        yield proxy


@pytest.fixture
def redis_proxy(redis_url: str) -> Iterator[TcpProxy]:
    with TcpProxy("127.0.0.1", 6379) as proxy:
        yield proxy


def assert_clean_503(response: httpx.Response) -> None:
    assert response.status_code == 503, (response.status_code, response.text[:300])
    assert "Traceback" not in response.text
    if response.headers["content-type"].startswith("text/html"):
        assert "Temporarily unavailable" in response.text
    else:
        assert "detail" in response.json()


def assert_no_traceback_logged(caplog: pytest.LogCaptureFixture) -> None:
    failures = [
        record
        for record in caplog.records
        if record.levelno >= logging.ERROR and (record.exc_info or "Traceback" in record.message)
    ]
    assert not failures, [record.getMessage() for record in failures]


def test_postgres_outage_with_sql_sessions(
    fresh_database: str,
    postgres_proxy: TcpProxy,
    make_settings: Callable[..., PortalSettings],
    serve: Callable[[Any], LiveServer],
    signed_in_client: Callable[..., httpx.Client],
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = make_settings(database_url=_postgres_via(fresh_database, postgres_proxy), **RELAXED)
    _, server = start_portal(settings, serve, "alice")
    with closing(signed_in_client(server, "alice", PASSWORD)) as client:
        events = GradioEvents(client, MOUNT)
        assert events.call("remember", ["before"]).output == ["stored"]

        postgres_proxy.cut()
        html = {"accept": "text/html"}
        assert_clean_503(client.get(MOUNT + "/", headers=html))
        assert_clean_503(client.get(MOUNT + "/config"))
        assert_clean_503(events.join("recall", [])[0])
        health = httpx.get(server.url + "/healthz")  # probes send no cookie
        assert health.status_code == 503
        assert health.json()["database"] == "unavailable"
        with httpx.Client(base_url=server.url, timeout=30) as stranger:
            page = stranger.get("/login")  # needs no database
            assert page.status_code == 200
            token = csrf_token(page)
            assert_clean_503(
                stranger.post(
                    "/login",
                    data={"username": "alice", "password": PASSWORD, "csrf_token": token},
                    headers=html,
                )
            )

        postgres_proxy.restore()
        # The pool's dead connections are replaced on checkout: no restart needed.
        assert client.get("/healthz").status_code == 200
        assert client.get(MOUNT + "/", headers=html).status_code == 200
        assert events.call("recall", []).output == ["before"]
    assert_no_traceback_logged(caplog)


def test_redis_outage_fails_closed_and_recovers(
    fresh_database: str,
    redis_url: str,
    redis_proxy: TcpProxy,
    make_settings: Callable[..., PortalSettings],
    serve: Callable[[Any], LiveServer],
    signed_in_client: Callable[..., httpx.Client],
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = make_settings(
        database_url=fresh_database, redis_url=_redis_via(redis_url, redis_proxy), **RELAXED
    )
    _, server = start_portal(settings, serve, "alice")
    with closing(signed_in_client(server, "alice", PASSWORD)) as client:
        events = GradioEvents(client, MOUNT)
        assert events.call("remember", ["before"]).output == ["stored"]

        redis_proxy.cut()
        html = {"accept": "text/html"}
        assert_clean_503(client.get(MOUNT + "/", headers=html))
        assert_clean_503(events.join("recall", [])[0])
        health = httpx.get(server.url + "/healthz")
        assert (health.status_code, health.json()["sessions"]) == (503, "unavailable")
        with httpx.Client(base_url=server.url, timeout=30) as stranger:
            page = stranger.get("/login")
            token = csrf_token(page)
            # The login throttle lives in Redis too: no unthrottled guessing while it is down.
            assert_clean_503(
                stranger.post(
                    "/login",
                    data={"username": "alice", "password": "guess", "csrf_token": token},
                    headers=html,
                )
            )

        redis_proxy.restore()
        assert client.get("/healthz").status_code == 200
        assert client.get(MOUNT + "/", headers=html).status_code == 200
        assert events.call("recall", []).output == ["before"]
    assert_no_traceback_logged(caplog)
