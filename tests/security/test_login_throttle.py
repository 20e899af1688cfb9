"""Brute force is throttled per address and per account, across processes; failures give
nothing away, in content or in timing.

Client addresses are real: each client binds its own loopback source address (127.0.0.N).
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from tests.conftest import PASSWORD

from gradio_portal import Portal, PortalSettings
from gradio_portal.testing import LiveServer, login


@pytest.fixture
def clients() -> Iterator[Callable[..., httpx.Client]]:
    made: list[httpx.Client] = []

    def make(server: LiveServer, address: str = "127.0.0.1", **headers: str) -> httpx.Client:
        client = httpx.Client(
            base_url=server.url,
            headers=headers,
            transport=httpx.HTTPTransport(local_address=address),
            timeout=30,
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def throttled_portal(make_settings: Callable[..., PortalSettings], **limits: Any) -> Portal:
    portal = Portal(settings=make_settings(**limits))
    portal.accounts.create("alice", PASSWORD)
    portal.accounts.create("bob", PASSWORD)
    return portal


def test_one_address_is_throttled_across_accounts(
    make_settings: Callable[..., PortalSettings],
    serve: Callable[[Any], LiveServer],
    clients: Callable[..., httpx.Client],
) -> None:
    portal = throttled_portal(
        make_settings,
        login_attempts_per_address="5/minute",
        login_attempts_per_account="100/minute",
    )
    server = serve(portal.app)
    attacker = clients(server, "127.0.0.2")
    for i in range(5):
        assert login(attacker, f"guess{i}", "wrong password").status_code == 401
    blocked = login(attacker, "alice", PASSWORD)  # even the right password
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["retry-after"]) <= 61
    assert "gradio_portal_session" not in attacker.cookies
    assert login(clients(server, "127.0.0.3"), "alice", PASSWORD).status_code == 303


def test_forwarded_for_from_an_untrusted_peer_does_not_reset_the_count(
    make_settings: Callable[..., PortalSettings],
    serve: Callable[[Any], LiveServer],
    clients: Callable[..., httpx.Client],
) -> None:
    portal = throttled_portal(
        make_settings,
        login_attempts_per_address="5/minute",
        login_attempts_per_account="100/minute",
    )
    server = serve(portal.app)  # uvicorn trusts X-Forwarded-For from 127.0.0.1 only
    for i in range(6):
        spoofing = clients(server, "127.0.0.2", **{"x-forwarded-for": f"203.0.113.{i}"})
        status = login(spoofing, f"guess{i}", "wrong password").status_code
        assert status == (429 if i == 5 else 401)


def test_behind_a_trusted_proxy_the_forwarded_client_is_counted(
    make_settings: Callable[..., PortalSettings],
    serve: Callable[[Any], LiveServer],
    clients: Callable[..., httpx.Client],
) -> None:
    portal = throttled_portal(
        make_settings,
        login_attempts_per_address="3/minute",
        login_attempts_per_account="100/minute",
    )
    server = serve(portal.app)
    proxy_for = {"x-forwarded-for": "203.0.113.7"}
    for i in range(3):
        assert login(clients(server, **proxy_for), f"guess{i}", "x" * 9).status_code == 401
    assert login(clients(server, **proxy_for), "alice", PASSWORD).status_code == 429
    other = {"x-forwarded-for": "203.0.113.8"}
    assert login(clients(server, **other), "alice", PASSWORD).status_code == 303


def test_one_account_is_throttled_across_addresses(
    make_settings: Callable[..., PortalSettings],
    serve: Callable[[Any], LiveServer],
    clients: Callable[..., httpx.Client],
) -> None:
    portal = throttled_portal(
        make_settings,
        login_attempts_per_account="5/minute",
        login_attempts_per_address="100/minute",
    )
    server = serve(portal.app)
    for n in range(2, 7):
        assert login(clients(server, f"127.0.0.{n}"), "alice", "wrong").status_code == 401
    fresh = clients(server, "127.0.0.7")
    assert login(fresh, "ALICE", PASSWORD).status_code == 429  # case does not dodge it
    assert login(fresh, "bob", PASSWORD).status_code == 303


def test_two_processes_share_the_count_through_redis(
    redis_url: str,
    make_settings: Callable[..., PortalSettings],
    serve: Callable[[Any], LiveServer],
    clients: Callable[..., httpx.Client],
) -> None:
    settings = make_settings(
        redis_url=redis_url,
        throttle_key_prefix=f"test-throttle-{uuid.uuid4().hex}",
        login_attempts_per_account="4/minute",
        login_attempts_per_address="100/minute",
    )
    first = Portal(settings=settings)
    first.accounts.create("alice", PASSWORD)
    second = Portal(settings=settings)  # another process: same database, same Redis
    servers = [serve(first.app), serve(second.app)]
    for i in range(4):
        assert login(clients(servers[i % 2]), "alice", "wrong").status_code == 401
    for server in servers:
        blocked = login(clients(server), "alice", PASSWORD)
        assert blocked.status_code == 429 and "retry-after" in blocked.headers


def test_the_throttle_is_process_local_without_redis(
    make_settings: Callable[..., PortalSettings],
    serve: Callable[[Any], LiveServer],
    clients: Callable[..., httpx.Client],
) -> None:
    # The contrast that makes the Redis test meaningful: each process saw only 2 failures.
    settings = make_settings(login_attempts_per_account="4/minute")
    first = Portal(settings=settings)
    first.accounts.create("alice", PASSWORD)
    second = Portal(settings=settings)
    servers = [serve(first.app), serve(second.app)]
    for i in range(4):
        assert login(clients(servers[i % 2]), "alice", "wrong").status_code == 401
    assert login(clients(servers[0]), "alice", PASSWORD).status_code == 303


def test_unknown_user_and_wrong_password_answers_are_byte_identical(
    portal: Portal, secured: LiveServer, clients: Callable[..., httpx.Client]
) -> None:
    client = clients(secured)  # one client: one CSRF nonce, so even the token is the same
    unknown = login(client, "zed", PASSWORD)
    portal.accounts.create("zed", "zed's real password")
    wrong = login(client, "zed", PASSWORD)
    portal.accounts.set_active("zed", False)
    disabled = login(client, "zed", "zed's real password")
    assert unknown.status_code == wrong.status_code == disabled.status_code == 401
    assert unknown.content == wrong.content == disabled.content

    def headers(answer: httpx.Response) -> list[tuple[str, str]]:
        # The date and the request's own id differ from answer to answer by nature.
        return sorted(
            (k, v) for k, v in answer.headers.multi_items() if k not in ("date", "x-request-id")
        )

    assert headers(unknown) == headers(wrong) == headers(disabled)


def test_unknown_user_and_wrong_password_take_similar_time(
    make_settings: Callable[..., PortalSettings],
    serve: Callable[[Any], LiveServer],
    clients: Callable[..., httpx.Client],
) -> None:
    portal = throttled_portal(
        make_settings,
        login_attempts_per_account="1000/minute",
        login_attempts_per_address="1000/minute",
    )
    client = clients(serve(portal.app))
    login(client, "warm-up", PASSWORD)

    def timed(username: str) -> float:
        start = time.perf_counter()
        assert login(client, username, "wrong password").status_code == 401
        return time.perf_counter() - start

    samples: dict[str, list[float]] = {"unknown": [], "known": []}
    for i in range(9):  # interleaved, so drifts in machine load hit both alike
        samples["unknown"].append(timed(f"nobody{i}"))
        samples["known"].append(timed("alice"))
    unknown, known = (statistics.median(samples[k]) for k in ("unknown", "known"))
    # Without the dummy hash an unknown name answers in a few ms against ~50+ ms for a hash.
    assert 0.6 < unknown / known < 1.6, samples
