"""The portal end to end over real HTTP: login, events with context, sessions, logout."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from tests.conftest import PASSWORD
from tests.integration.apps import build_events_app

from gradio_portal import Portal, PortalSettings
from gradio_portal.testing import GradioEvents, LiveServer, csrf_token, login

MOUNT = "/app"


@pytest.fixture
def server(portal: Portal, serve: Callable[[Any], LiveServer]) -> LiveServer:
    portal.mount(build_events_app(), MOUNT)
    return serve(portal.app)


@pytest.fixture
def alice(server: LiveServer, signed_in_client: Callable[..., httpx.Client]) -> httpx.Client:
    return signed_in_client(server, "alice", PASSWORD)


def session_cookie(client: httpx.Client) -> str:
    return client.cookies["gradio_portal_session"]


def test_login_sets_a_protective_cookie_and_redirects_to_next(
    server: LiveServer, client_for: Callable[[LiveServer], httpx.Client]
) -> None:
    client = client_for(server)
    response = login(client, "alice", PASSWORD, next="/app/?c=42")
    assert response.status_code == 303
    assert response.headers["location"] == "/app/?c=42"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("gradio_portal_session=")
    )
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "samesite=lax", "path=/"} <= flags
    assert "secure" not in flags  # plain http on loopback
    assert client.get("/app/").status_code == 200


def test_login_without_csrf_token_is_refused(
    server: LiveServer, client_for: Callable[[LiveServer], httpx.Client]
) -> None:
    client = client_for(server)
    client.get("/login")
    response = client.post("/login", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 403
    assert "gradio_portal_session" not in client.cookies


def test_hostile_next_is_ignored(
    server: LiveServer, client_for: Callable[[LiveServer], httpx.Client]
) -> None:
    for hostile in ("//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:1"):
        client = client_for(server)
        response = login(client, "alice", PASSWORD, next=hostile)
        assert response.status_code == 303
        assert response.headers["location"] == "/app/"


@pytest.mark.parametrize(
    ("api_name", "data", "expected"),
    [
        ("whoami", [], "alice|Alice Liddell|"),
        ("whoami_async", [], "async:alice"),
        ("mixed", ["a", "b"], "a-alice-b"),
        ("get_user_info", [], "Welcome, alice!"),
    ],
)
def test_events_receive_the_signed_in_user(
    alice: httpx.Client, api_name: str, data: list[Any], expected: str
) -> None:
    assert GradioEvents(alice, MOUNT).call(api_name, data).output == [expected]


@pytest.mark.parametrize("api_name", ["count_up", "count_up_async"])
def test_generators_receive_the_context(alice: httpx.Client, api_name: str) -> None:
    result = GradioEvents(alice, MOUNT).call(api_name, [3])
    assert result.output == ["alice:2"]
    assert len(result.generating) >= 1


def test_chat_interface_fn_receives_the_context(alice: httpx.Client) -> None:
    # The /chat endpoint keeps its history in server-side state: it starts empty.
    result = GradioEvents(alice, MOUNT).call("chat", ["hello", []])
    assert result.output[0] == "alice said 'hello' after 0 messages"


def test_context_is_not_an_api_input(alice: httpx.Client) -> None:
    info = alice.get(MOUNT + "/gradio_api/info").json()
    whoami = info["named_endpoints"]["/whoami"]
    assert whoami["parameters"] == []
    assert [p["parameter_name"] for p in info["named_endpoints"]["/mixed"]["parameters"]] == [
        "prefix",
        "suffix",
    ]


def test_session_written_in_a_callback_is_read_by_the_next_event(alice: httpx.Client) -> None:
    events = GradioEvents(alice, MOUNT)
    assert events.call("remember", ["buy milk"]).output == ["stored"]
    assert events.call("recall", []).output == ["buy milk"]


def test_context_carries_the_page_and_its_query(alice: httpx.Client) -> None:
    result = GradioEvents(alice, MOUNT, page="/app/?c=42").call("page_query", [])
    assert result.output == ["/app/?c=42|{'c': '42'}"]


def _output_of_raw_call(
    client: httpx.Client, query: str, headers: dict[str, str] | None = None
) -> list[Any]:
    """``page_query`` joined with ``query`` on the join URL and ``headers``, as given."""
    session_hash = secrets.token_hex(8)
    response = client.post(
        f"{MOUNT}/gradio_api/queue/join?{query}",
        json={
            "data": [],
            "fn_index": GradioEvents(client, MOUNT).fn_index("page_query"),
            "session_hash": session_hash,
            "event_data": None,
        },
        headers=headers or {},
    )
    assert response.status_code == 200
    with client.stream(
        "GET", MOUNT + "/gradio_api/queue/data", params={"session_hash": session_hash}
    ) as stream:
        for line in stream.iter_lines():
            if line.startswith("data:") and '"process_completed"' in line:
                return list(json.loads(line[5:])["output"]["data"])
    raise AssertionError("the event never completed")


def test_the_query_is_the_pages_as_it_is_now(alice: httpx.Client) -> None:
    # Gradio's frontend sends every call with the query the page had when it loaded; a page
    # that changed its address since (history.replaceState) says so in the page header.
    output = _output_of_raw_call(alice, "c=1", {"x-gradio-portal-page": "/app/?c=7&empty="})
    assert output == ["/app/?c=7&empty=|{'c': '7', 'empty': ''}"]


def test_without_a_page_the_query_is_the_calls_own(alice: httpx.Client) -> None:
    # A client that is not a browser page: the call's own path and query.
    output = _output_of_raw_call(alice, "c=3")
    assert output == ["/app/gradio_api/queue/join?c=3|{'c': '3'}"]


def test_logout_revokes_the_session_everywhere(
    alice: httpx.Client, server: LiveServer, client_for: Callable[[LiveServer], httpx.Client]
) -> None:
    old_cookie = session_cookie(alice)
    page = alice.get("/logout")
    assert page.status_code == 200 and "Sign out" in page.text
    response = alice.post("/logout", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 303
    assert response.headers["location"] == "/login"

    replay = client_for(server)
    replay.cookies.set("gradio_portal_session", old_cookie)
    events = GradioEvents(replay, MOUNT)
    joined, _ = events.join(0, [])
    assert joined.status_code == 401
    assert replay.get(MOUNT + "/config").status_code == 401
    page_load = replay.get(MOUNT + "/", headers={"accept": "text/html"})
    assert page_load.status_code == 303
    assert page_load.headers["location"] == "/login?next=/app/"


def test_logout_needs_the_csrf_token(alice: httpx.Client) -> None:
    assert alice.post("/logout", data={"csrf_token": "forged"}).status_code == 403
    assert alice.get(MOUNT + "/config").status_code == 200


def test_login_rotates_the_session_id(
    alice: httpx.Client, server: LiveServer, client_for: Callable[[LiveServer], httpx.Client]
) -> None:
    first = session_cookie(alice)
    # Posting the login form again (say, a form left open in another tab) signs in anew.
    page = client_for(server).get("/login")
    alice.cookies.set("gradio_portal_csrf", page.cookies["gradio_portal_csrf"])
    response = alice.post(
        "/login", data={"username": "alice", "password": PASSWORD, "csrf_token": csrf_token(page)}
    )
    assert response.status_code == 303
    second = session_cookie(alice)
    assert first != second
    replay = client_for(server)
    replay.cookies.set("gradio_portal_session", first)
    assert replay.get(MOUNT + "/config").status_code == 401


def test_expired_sessions_are_refused(
    make_settings: Callable[..., PortalSettings],
    serve: Callable[[Any], LiveServer],
    client_for: Callable[[LiveServer], httpx.Client],
) -> None:
    portal = Portal(settings=make_settings(session_idle_timeout=1))
    portal.accounts.create("carol", PASSWORD)
    portal.mount(build_events_app(), MOUNT)
    client = client_for(serve(portal.app))
    assert login(client, "carol", PASSWORD).status_code == 303
    assert client.get(MOUNT + "/config").status_code == 200
    time.sleep(1.3)
    assert client.get(MOUNT + "/config").status_code == 401


def test_absolute_timeout_ends_even_an_active_session(
    make_settings: Callable[..., PortalSettings],
    serve: Callable[[Any], LiveServer],
    client_for: Callable[[LiveServer], httpx.Client],
) -> None:
    portal = Portal(settings=make_settings(session_absolute_timeout=5, session_idle_timeout=60))
    portal.accounts.create("carol", PASSWORD)
    portal.mount(build_events_app(), MOUNT)
    client = client_for(serve(portal.app))
    assert login(client, "carol", PASSWORD).status_code == 303
    started = time.monotonic()
    while time.monotonic() - started < 2.5:  # active all along: the idle timeout never hits
        assert client.get(MOUNT + "/config").status_code == 200
        time.sleep(0.3)
    time.sleep(max(0.0, 5.3 - (time.monotonic() - started)))
    assert client.get(MOUNT + "/config").status_code == 401


@pytest.mark.parametrize(
    "cookie",
    ["", "garbage", "x" * 43, "a" * 5000, "%00%ff;;==", "\u00e9t\u00e9", "A" * 42 + "!"],
)
def test_malformed_cookies_are_treated_as_anonymous(server: LiveServer, cookie: str) -> None:
    raw = f"gradio_portal_session={cookie}".encode("utf-8", "surrogateescape")
    with httpx.Client(base_url=server.url) as client:
        response = client.get(MOUNT + "/config", headers={"cookie": raw})
        assert response.status_code == 401
        page = client.get("/login", headers={"cookie": raw})
        assert page.status_code == 200


def test_wrong_password_unknown_user_and_disabled_user_look_the_same(
    portal: Portal, server: LiveServer, client_for: Callable[[LiveServer], httpx.Client]
) -> None:
    portal.accounts.create("dave", PASSWORD)
    portal.accounts.set_active("dave", False)
    answers = []
    for username, password in (
        ("alice", "wrong password"),
        ("nobody", PASSWORD),
        ("dave", PASSWORD),
    ):
        client = client_for(server)
        response = login(client, username, password)
        body = response.text.replace(username, "USER")
        answers.append((response.status_code, body.split('name="csrf_token"')[0]))
        assert "gradio_portal_session" not in client.cookies
    assert answers[0][0] == 401
    assert answers[0] == answers[1] == answers[2]


def test_healthz_reports_the_database(server: LiveServer) -> None:
    response = httpx.get(server.url + "/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "sessions": "ok"}
