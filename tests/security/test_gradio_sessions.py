"""A Gradio session is its portal session's alone: bob, signed in, holding alice's session
hash or event id (the access log used to print them), reaches nothing of hers.

Every test here would pass bob through on Gradio alone: Gradio keys streams, state, cancel,
heartbeat and deep links by the hash the browser picked, with no owner check.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import gradio as gr
import httpx
import pytest
from tests.conftest import PASSWORD

from gradio_portal import Portal
from gradio_portal.testing import EventResult, GradioEvents, LiveServer, login

MOUNT = "/app"
STEPS = 8


def build_app(unloaded: list[str] | None = None) -> gr.Blocks:
    with gr.Blocks() as demo:
        note = gr.Textbox()
        out = gr.Textbox()
        hash_out = gr.Textbox()

        def remember(text: str) -> str:
            return text

        def count(text: str) -> Iterator[str]:
            for step in range(STEPS):
                time.sleep(0.15)
                yield f"{text} {step}"

        def whoami(request: gr.Request) -> str:
            return request.session_hash or ""

        def headers(request: gr.Request) -> str:
            return request.headers.get("cookie", "")

        gr.Button().click(remember, note, note, api_name="remember")
        counting = gr.Button().click(count, note, out, api_name="count")
        gr.Button().click(None, None, None, cancels=[counting], api_name="stop")
        gr.Button().click(whoami, None, hash_out, api_name="whoami")
        gr.Button().click(headers, None, out, api_name="headers")

        def unload(request: gr.Request) -> None:
            if unloaded is not None:
                unloaded.append(request.session_hash or "")

        demo.unload(unload)
    return demo


@pytest.fixture
def unloaded() -> list[str]:
    """The Gradio sessions whose page Gradio believed closed (its unload events ran)."""
    return []


@pytest.fixture
def server(portal: Portal, serve: Callable[[Any], LiveServer], unloaded: list[str]) -> LiveServer:
    portal.mount(build_app(unloaded), MOUNT)
    return serve(portal.app)


@pytest.fixture
def users(
    server: LiveServer, client_for: Callable[[LiveServer], httpx.Client]
) -> tuple[GradioEvents, GradioEvents]:
    alice, bob = client_for(server), client_for(server)
    assert login(alice, "alice", PASSWORD).status_code == 303
    assert login(bob, "bob", PASSWORD).status_code == 303
    return GradioEvents(alice, MOUNT), GradioEvents(bob, MOUNT)


def _result(events: GradioEvents, session_hash: str) -> EventResult:
    """Read the event stream of ``session_hash`` until an event completes."""
    result = EventResult()
    with events.client.stream(
        "GET", MOUNT + "/gradio_api/queue/data", params={"session_hash": session_hash}
    ) as response:
        for line in response.iter_lines():
            if line.startswith("data:"):
                result.messages.append(httpx.Response(200, content=line[5:]).json())
                if result.messages[-1].get("msg") == "process_completed":
                    break
    return result


def _stream(events: GradioEvents, session_hash: str, seconds: float) -> list[dict[str, Any]]:
    """What a GET of queue/data with ``session_hash`` receives within ``seconds``."""
    messages: list[dict[str, Any]] = []
    try:
        with events.client.stream(
            "GET",
            MOUNT + "/gradio_api/queue/data",
            params={"session_hash": session_hash},
            timeout=seconds,
        ) as response:
            for line in response.iter_lines():
                if line.startswith("data:"):
                    messages.append(httpx.Response(200, content=line[5:]).json())
    except httpx.ReadTimeout:
        pass
    return messages


def test_bob_cannot_read_or_steal_alices_event_stream(
    users: tuple[GradioEvents, GradioEvents],
) -> None:
    alice, bob = users
    response, session_hash = alice.join("count", ["alice-secret"])
    assert response.status_code == 200
    stolen: list[dict[str, Any]] = []
    thief = threading.Thread(target=lambda: stolen.extend(_stream(bob, session_hash, 2.0)))
    thief.start()
    time.sleep(0.2)
    result = _result(alice, session_hash)
    thief.join()
    assert "alice-secret" not in str(stolen)
    assert result.output == [f"alice-secret {STEPS - 1}"]
    # Alice saw every step: nothing was taken from her stream.
    assert len(result.generating) >= STEPS - 1


def test_bob_cannot_stop_alices_event(users: tuple[GradioEvents, GradioEvents]) -> None:
    alice, bob = users
    response, session_hash = alice.join("count", ["keep going"])
    event_id = response.json()["event_id"]
    time.sleep(0.3)
    fn_index = alice.fn_index("count")
    cancel = bob.client.post(
        MOUNT + "/gradio_api/cancel",
        json={"session_hash": session_hash, "fn_index": fn_index, "event_id": event_id},
    )
    assert cancel.status_code == 404
    # An event that cancels= alice's, joined under her hash.
    bob.call("stop", [], session_hash=session_hash)
    assert _result(alice, session_hash).output == [f"keep going {STEPS - 1}"]


def test_bob_cannot_read_alices_page_state_through_a_deep_link(
    users: tuple[GradioEvents, GradioEvents],
) -> None:
    # Bob tries her hash, and the name Gradio knows her page by (it shows in her media URLs
    # and gr.Request.session_hash), under every spelling of the key the app decodes.
    alice, bob = users
    session_hash = "alicespage01"
    assert alice.call("remember", ["alice's note"], session_hash=session_hash).success
    alices_name = alice.call("whoami", [], session_hash=session_hash).output[0]
    mine = alice.client.get(f"{MOUNT}/gradio_api/deep_link?session%5Fhash={session_hash}")
    assert mine.status_code == 200 and mine.json() != ""
    for key in ("session_hash", "session%5Fhash", "session%5fhash", "%73ession_hash"):
        for value in (session_hash, alices_name):
            theirs = bob.client.get(f"{MOUNT}/gradio_api/deep_link?{key}={value}")
            assert theirs.status_code == 200, (key, value)
            assert theirs.json() == "", (key, value)


def test_bobs_heartbeat_on_alices_hash_does_not_close_her_page(
    users: tuple[GradioEvents, GradioEvents], unloaded: list[str]
) -> None:
    alice, bob = users
    session_hash = "alicespage02"
    alices_name = alice.call("whoami", [], session_hash=session_hash).output[0]
    # A heartbeat that ends means "the tab closed": Gradio runs the page's unload events and
    # drops its state and running events.
    with contextlib.suppress(httpx.ReadTimeout):
        bob.client.get(MOUNT + f"/gradio_api/heartbeat/{session_hash}", timeout=0.5)
    deadline = time.monotonic() + 10
    while not unloaded and time.monotonic() < deadline:
        time.sleep(0.05)
    assert unloaded, "the heartbeat's end was not noticed: the test proves nothing"
    assert alices_name not in unloaded
    link = alice.client.get(MOUNT + "/gradio_api/deep_link", params={"session_hash": session_hash})
    assert link.json() != ""


def test_an_event_id_answers_only_the_session_that_started_it(
    users: tuple[GradioEvents, GradioEvents],
) -> None:
    alice, bob = users
    started = alice.client.post(MOUNT + "/gradio_api/call/remember", json={"data": ["mine"]})
    assert started.status_code == 200
    event_id = started.json()["event_id"]
    refused = bob.client.get(MOUNT + f"/gradio_api/call/remember/{event_id}")
    never_existed = bob.client.get(MOUNT + "/gradio_api/call/remember/0123456789abcdef")
    assert refused.status_code == never_existed.status_code == 404
    assert refused.json() == never_existed.json()
    mine = alice.client.get(MOUNT + f"/gradio_api/call/remember/{event_id}")
    assert mine.status_code == 200
    assert "mine" in mine.text


def test_one_page_keeps_its_session_and_two_users_never_share_one(
    users: tuple[GradioEvents, GradioEvents],
) -> None:
    alice, bob = users
    first = alice.call("whoami", [], session_hash="samehash").output[0]
    again = alice.call("whoami", [], session_hash="samehash").output[0]
    bobs = bob.call("whoami", [], session_hash="samehash").output[0]
    assert first == again
    assert first.startswith("samehash")
    assert bobs != first


def test_app_code_never_sees_the_portals_cookies(
    users: tuple[GradioEvents, GradioEvents],
) -> None:
    alice, _ = users
    alice.client.cookies.set("theme", "dark")
    seen = alice.call("headers", []).output[0]
    assert "theme=dark" in seen
    assert alice.client.cookies["gradio_portal_session"] not in seen
    assert "gradio_portal_session" not in seen
    assert "gradio_portal_csrf" not in seen


def test_the_binding_holds_across_processes_sharing_redis(
    redis_url: str,
    make_settings: Callable[..., Any],
    serve: Callable[[Any], LiveServer],
    client_for: Callable[[LiveServer], httpx.Client],
) -> None:
    # Two portals (two processes behind a load balancer) share the database, the secret and
    # the Redis session store, nothing else: a page's Gradio session has the same name on both
    # for its owner, and another name for anyone else, without any binding to look up.
    settings = make_settings(redis_url=redis_url)
    first, second = Portal(settings=settings), Portal(settings=settings)
    first.accounts.create("alice", PASSWORD)
    first.accounts.create("bob", PASSWORD)
    servers = []
    for portal in (first, second):
        portal.mount(build_app(), MOUNT)
        servers.append(serve(portal.app))
    alice, bob = client_for(servers[0]), client_for(servers[0])
    assert login(alice, "alice", PASSWORD).status_code == 303
    assert login(bob, "bob", PASSWORD).status_code == 303

    def name_on(server: LiveServer, client: httpx.Client) -> str:
        moved = httpx.Client(base_url=server.url, cookies=client.cookies, timeout=30)
        with moved:
            return str(GradioEvents(moved, MOUNT).call("whoami", [], session_hash="H1").output[0])

    alices = {name_on(server, alice) for server in servers}
    bobs = {name_on(server, bob) for server in servers}
    assert len(alices) == 1 and len(bobs) == 1
    assert alices != bobs


def session_name(request: gr.Request) -> str:
    return request.session_hash or ""


def keep(value: Any) -> str:
    """A component's server function: leaves ``value`` in the calling page's Gradio session."""
    from gradio.context import LocalContext

    LocalContext.blocks_config.get().kept_by_test = value  # type: ignore[union-attr]
    return "kept"


def peek(_: Any) -> str:
    """A component's server function: what the calling page's Gradio session holds."""
    from gradio.context import LocalContext

    return str(getattr(LocalContext.blocks_config.get(), "kept_by_test", ""))


def test_a_server_function_runs_in_the_callers_session_whatever_the_content_type(
    portal: Portal,
    serve: Callable[[Any], LiveServer],
    client_for: Callable[[LiveServer], httpx.Client],
) -> None:
    # component_server reads its body as JSON whatever the Content-Type says, unless the type
    # starts with multipart/form-data: then as a form, whose session_hash field is never renamed.
    with gr.Blocks() as demo:
        gr.HTML("<p>tools</p>", server_functions=[keep, peek])
        hash_out = gr.Textbox()
        gr.Button().click(session_name, None, hash_out, api_name="whoami")
    portal.mount(demo, "/fn")
    server = serve(portal.app)
    alice, bob = client_for(server), client_for(server)
    assert login(alice, "alice", PASSWORD).status_code == 303
    assert login(bob, "bob", PASSWORD).status_code == 303
    config = alice.get("/fn/config").json()
    [html_id] = [c["id"] for c in config["components"] if c["type"] == "html"]
    url = "/fn/gradio_api/component_server"

    def body(session_hash: str, fn_name: str, data: Any = None) -> dict[str, Any]:
        return {
            "data": data,
            "component_id": html_id,
            "session_hash": session_hash,
            "fn_name": fn_name,
        }

    assert alice.post(url, json=body("alicespage05", "keep", "alice-secret")).json() == "kept"
    assert alice.post(url, json=body("alicespage05", "peek")).json() == "alice-secret"
    events = GradioEvents(alice, "/fn")
    alices_name = events.call("whoami", [], session_hash="alicespage05").output[0]

    for content_type in ("application/json", "application/octet-stream", "text/x-json", None):
        headers = {"content-type": content_type} if content_type else {}
        for named in ("alicespage05", alices_name):
            answer = bob.post(url, content=json.dumps(body(named, "peek")), headers=headers)
            assert "alice-secret" not in answer.text, (content_type, named)
    for content_type in ("multipart/form-dataX; boundary=b", "multipart/form-data; boundary=b"):
        form = (
            f'--b\r\nContent-Disposition: form-data; name="session_hash"\r\n\r\n{alices_name}\r\n'
            f'--b\r\nContent-Disposition: form-data; name="component_id"\r\n\r\n{html_id}\r\n'
            '--b\r\nContent-Disposition: form-data; name="fn_name"\r\n\r\npeek\r\n--b--\r\n'
        )
        answer = bob.post(url, content=form, headers={"content-type": content_type})
        assert answer.status_code == 415, content_type
        assert "alice-secret" not in answer.text
