"""What operators see, over real HTTP: request ids, the log, /metrics, /livez, OPTIONS.

Real uvicorn servers on kernel-picked ports and real SQLite files; the log of one test comes
from a real ``gradio-portal serve`` process, read from its standard error.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from tests.conftest import PASSWORD
from tests.integration.apps import build_events_app

from gradio_portal import Portal, PortalSettings, Redirect
from gradio_portal.chat.backends import EchoBackend
from gradio_portal.chat.repository import ConversationRepository
from gradio_portal.chat.service import ChatService
from gradio_portal.observability import configure_logging
from gradio_portal.testing import GradioEvents, LiveServer, login
from gradio_portal.testing.ports import consecutive_free_ports

MOUNT = "/app"
HEX_ID = re.compile(r"[0-9a-f]{32}")


# -- helpers --------------------------------------------------------------------------------


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """``/metrics`` as {(sample name, labels): value}."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(
    metrics: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return metrics.get((name, frozenset(labels.items())), 0.0)


def read_metrics(server: LiveServer) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    answer = httpx.get(server.url + "/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return samples(answer.text)


def leave(report: str) -> Redirect:
    return Redirect("/app/?report=" + report)


def fail() -> str:
    raise ValueError("the handler broke")


def noted() -> str:
    logging.getLogger("tests.app").warning("the handler noted something")
    return "noted"


def stream(count: float) -> Iterator[str]:
    for i in range(int(count)):
        yield str(i)


def build_outcomes_app() -> gr.Blocks:
    """The events app, plus handlers that fail, redirect and stream."""
    demo = build_events_app()
    with demo:
        text = gr.Textbox()
        number = gr.Number()
        out = gr.Textbox()
        button = gr.Button()
        button.click(leave, text, out, api_name="leave")
        button.click(fail, None, out, api_name="fail")
        button.click(stream, number, out, api_name="stream")
        button.click(noted, None, out, api_name="noted")
    return demo


@pytest.fixture
def server(portal: Portal, serve: Callable[..., LiveServer]) -> LiveServer:
    portal.mount(build_outcomes_app(), MOUNT)
    return serve(portal.app)


_LOGGERS = (
    "",
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
    "uvicorn.asgi",
    "httpx",
    "httpcore",
    "watchfiles",
)


@pytest.fixture
def log_lines() -> Iterator[Callable[[PortalSettings], io.StringIO]]:
    """``log_lines(settings)``: the process's log, configured as ``serve`` does, into a buffer
    (logging as it was is restored after the test)."""
    saved = [
        (lg, lg.handlers[:], lg.level, lg.propagate, lg.filters[:])
        for lg in (logging.getLogger(name) for name in _LOGGERS)
    ]

    def configure(settings: PortalSettings) -> io.StringIO:
        stream = io.StringIO()
        configure_logging(settings, stream=stream)
        return stream

    yield configure
    logging.captureWarnings(False)
    for lg, handlers, level, propagate, filters in saved:
        lg.handlers[:] = handlers
        lg.setLevel(level)
        lg.propagate = propagate
        lg.filters[:] = filters


# -- request ids ----------------------------------------------------------------------------


def test_a_request_id_is_made_kept_or_replaced(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url) as client:
        made = client.get("/login").headers["x-request-id"]
        assert HEX_ID.fullmatch(made)
        assert client.get("/login").headers["x-request-id"] != made

        kept = client.get("/healthz", headers={"x-request-id": "nginx-1234.abc"})
        assert kept.headers["x-request-id"] == "nginx-1234.abc"

        for hostile in ("a" * 65, "line\tbreak", "quote'd", "semi;colon"):
            replaced = client.get("/healthz", headers={"x-request-id": hostile})
            assert HEX_ID.fullmatch(replaced.headers["x-request-id"]), hostile


def test_the_request_id_is_in_every_line_of_its_request_and_no_secret_is(
    portal: Portal,
    serve: Callable[..., LiveServer],
    log_lines: Callable[[PortalSettings], io.StringIO],
) -> None:
    portal.mount(build_outcomes_app(), MOUNT)
    log = log_lines(PortalSettings(log_level="info"))
    # uvicorn as `serve` starts it: its access lines go to the portal's log.
    server = serve(portal.app, log_level="info", log_config=None)
    with httpx.Client(base_url=server.url) as client:
        failed = login(client, "alice", "wrong " + PASSWORD)
        assert failed.status_code == 401
        signed_in = login(client, "alice", PASSWORD)
        assert signed_in.status_code == 303
        token = client.cookies["gradio_portal_session"]
        events = GradioEvents(client, MOUNT)
        assert events.call("whoami", []).output == ["alice|Alice Liddell|"]
        client.get(MOUNT + "/gradio_api/info", params={"session_hash": "hash-that-is-secret"})
        client.get(MOUNT + "/gradio_api/file=/tmp/a-secret-file.txt")
        # A handler runs after its queue/join was answered: its lines carry that request's id.
        events.client.headers["x-request-id"] = "join-1"
        assert events.call("noted", []).output == ["noted"]
    text = log.getvalue()
    assert "WARNING tests.app [join-1] the handler noted something" in text, text

    failed_id = failed.headers["x-request-id"]
    security = re.compile(
        r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z WARNING gradio_portal\.security "
        rf"\[{failed_id}\] sign_in\.failed user='alice' client=127\.0\.0\.1$",
        re.MULTILINE,
    )
    assert security.search(text), text
    access = rf'INFO uvicorn\.access \[{failed_id}\] 127\.0\.0\.1:\d+ - "POST /login HTTP/1\.1" 401'
    assert re.search(access, text), text
    succeeded = signed_in.headers["x-request-id"]
    assert re.search(
        rf"INFO gradio_portal\.security \[{succeeded}\] sign_in\.succeeded user='alice'", text
    )
    # Every line of a request names it.
    assert all(
        re.search(r"\[(-|[0-9a-f]{32}|join-1)\]", line)
        for line in text.splitlines()
        if "Z " in line
    )
    for secret in (PASSWORD, token, "hash-that-is-secret", "a-secret-file"):
        assert secret not in text, secret
    assert "GET /app/gradio_api/info?session_hash=… HTTP/1.1" in text
    assert "GET /app/gradio_api/file%3D… HTTP/1.1" in text


@pytest.fixture
def served_json(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str], Path]]:
    """``gradio-portal serve`` (the chat app) logging JSON lines to a file, with a user alice."""
    env = {
        **os.environ,
        "GRADIO_PORTAL_DATA_DIR": str(tmp_path / "data"),
        "GRADIO_PORTAL_LOG_FORMAT": "json",
    }
    subprocess.run(
        [sys.executable, "-m", "gradio_portal", "users", "add", "alice", "--password-stdin"],
        input=PASSWORD + "\n",
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    port = consecutive_free_ports(1)  # below the ephemeral range: no self-connect
    stderr = tmp_path / "stderr.log"
    with stderr.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "gradio_portal", "serve", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=sink,
            text=True,
            env=env,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(base + "/livez").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, stderr.read_text()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        yield base, process, stderr
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=20)


def test_serve_writes_json_lines_with_request_ids_and_no_secrets(
    served_json: tuple[str, subprocess.Popen[str], Path],
) -> None:
    base, process, stderr = served_json
    with httpx.Client(base_url=base) as client:
        failed = login(client, "alice", "not " + PASSWORD)
        assert failed.status_code == 401
        assert login(client, "alice", PASSWORD).status_code == 303
        token = client.cookies["gradio_portal_session"]
        client.get("/chat/gradio_api/info", params={"session_hash": "hash-that-is-secret"})
    process.terminate()
    process.wait(timeout=20)

    entries = [json.loads(line) for line in stderr.read_text().splitlines() if line.strip()]
    assert entries, "serve wrote no log"
    for entry in entries:
        assert {"time", "level", "logger", "request_id", "message"} <= entry.keys(), entry
    failed_id = failed.headers["x-request-id"]
    mine = [e for e in entries if e["request_id"] == failed_id]
    assert {
        "logger": "gradio_portal.security",
        "level": "WARNING",
        "event": "sign_in.failed",
        "user": "alice",
        "client": "127.0.0.1",
    }.items() <= next(e for e in mine if e["logger"] == "gradio_portal.security").items()
    access = next(e for e in mine if e["logger"] == "uvicorn.access")
    assert (access["method"], access["path"], access["status"]) == ("POST", "/login", 401)
    info = next(e for e in entries if e.get("path", "").startswith("/chat/gradio_api/info"))
    assert info["path"] == "/chat/gradio_api/info?session_hash=…"
    raw = stderr.read_text()
    for secret in (PASSWORD, token, "hash-that-is-secret"):
        assert secret not in raw, secret


# -- /metrics -------------------------------------------------------------------------------


def test_metrics_move_with_sign_ins_events_and_requests(
    server: LiveServer, client_for: Callable[[LiveServer], httpx.Client]
) -> None:
    before = read_metrics(server)
    client = client_for(server)
    assert login(client, "alice", "wrong " + PASSWORD).status_code == 401
    assert login(client, "alice", PASSWORD).status_code == 303
    events = GradioEvents(client, MOUNT)
    assert events.call("whoami", []).output == ["alice|Alice Liddell|"]
    assert events.call("fail", []).success is False
    left = events.call("leave", ["42"])
    assert left.success is False and "/app/?report=42" in (left.error or "")
    streamed = events.call("stream", [3])
    assert streamed.output == ["2"] and len(streamed.generating) == 3
    after = read_metrics(server)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("gradio_portal_sign_ins_total", outcome="success") == 1
    assert moved("gradio_portal_sign_ins_total", outcome="failure") == 1
    event_count = "gradio_portal_gradio_event_duration_seconds_count"
    for outcome in ("ok", "error", "redirect"):
        assert moved(event_count, app=MOUNT, outcome=outcome) >= 1, outcome
    assert moved(event_count, app=MOUNT, outcome="ok") == 2  # whoami and the stream
    assert moved("gradio_portal_gradio_event_duration_seconds_sum", app=MOUNT, outcome="ok") > 0
    assert value(after, "gradio_portal_gradio_streams_in_progress", app=MOUNT) == 0
    join = {"method": "POST", "route": MOUNT + "/gradio_api/queue/join", "status": "200"}
    assert moved("gradio_portal_http_requests_total", **join) == 4
    assert (
        moved("gradio_portal_http_requests_total", method="POST", route="/login", status="303") == 1
    )
    assert (
        moved("gradio_portal_http_requests_total", method="POST", route="/login", status="401") == 1
    )
    assert (
        moved(
            "gradio_portal_http_request_duration_seconds_count",
            method="POST",
            route=MOUNT + "/gradio_api/queue/join",
        )
        == 4
    )
    assert moved("gradio_portal_sessions_started_total") == 1
    assert (
        moved(
            "gradio_portal_session_store_call_duration_seconds_count",
            store="sql",
            operation="create",
        )
        == 1
    )
    assert moved("gradio_portal_database_query_duration_seconds_count", statement="SELECT") > 0
    # Raw paths never become labels: every route is a template.
    routes = {
        dict(labels).get("route")
        for (name, labels) in after
        if name.startswith("gradio_portal_http")
    }
    assert not any(route and "alice" in route for route in routes)


def test_a_generator_in_progress_is_counted_until_it_ends(
    server: LiveServer, signed_in_client: Callable[..., httpx.Client]
) -> None:
    client = signed_in_client(server, "alice", PASSWORD)
    GradioEvents(client, MOUNT).call("count_up", [2])
    after = read_metrics(server)
    assert value(after, "gradio_portal_gradio_streams_in_progress", app=MOUNT) == 0
    assert (
        value(after, "gradio_portal_gradio_event_duration_seconds_count", app=MOUNT, outcome="ok")
        == 1
    )


def test_metrics_are_refused_to_other_addresses_with_the_settings_that_open_them(
    portal: Portal, make_settings: Callable[..., PortalSettings], serve: Callable[..., LiveServer]
) -> None:
    closed = serve(Portal(settings=make_settings(metrics_allow=[])).app)
    refused = httpx.get(closed.url + "/metrics")
    assert refused.status_code == 403
    detail = refused.json()["detail"]
    assert "GRADIO_PORTAL_METRICS_ALLOW" in detail and "GRADIO_PORTAL_METRICS_TOKEN" in detail

    # Behind a trusted proxy, the address is the client's, not the proxy's loopback one.
    proxied = serve(portal.app, proxy_headers=True, forwarded_allow_ips="127.0.0.1")
    outside = {"x-forwarded-for": "203.0.113.9"}
    assert httpx.get(proxied.url + "/metrics", headers=outside).status_code == 403
    assert httpx.get(proxied.url + "/metrics").status_code == 200

    network = make_settings(
        metrics_allow=["203.0.113.0/24"], data_dir=portal.settings.data_dir / "n"
    )
    allowed = serve(
        Portal(settings=network).app, proxy_headers=True, forwarded_allow_ips="127.0.0.1"
    )
    assert httpx.get(allowed.url + "/metrics", headers=outside).status_code == 200
    assert httpx.get(allowed.url + "/metrics").status_code == 403


def test_metrics_open_with_the_bearer_token(
    make_settings: Callable[..., PortalSettings], serve: Callable[..., LiveServer]
) -> None:
    token = "a-scraper-token-of-some-length"
    server = serve(Portal(settings=make_settings(metrics_allow=[], metrics_token=token)).app)
    url = server.url + "/metrics"
    assert httpx.get(url, headers={"authorization": f"Bearer {token}"}).status_code == 200
    assert httpx.get(url, headers={"authorization": f"bearer {token}"}).status_code == 200
    assert httpx.get(url, headers={"authorization": "Bearer not-the-token"}).status_code == 403
    assert httpx.get(url, headers={"authorization": f"Basic {token}"}).status_code == 403
    assert httpx.get(url).status_code == 403


def test_two_portals_in_one_process_count_apart(
    make_settings: Callable[..., PortalSettings], serve: Callable[..., LiveServer], tmp_path: Path
) -> None:
    first = serve(Portal(settings=make_settings(data_dir=tmp_path / "one")).app)
    second = serve(Portal(settings=make_settings(data_dir=tmp_path / "two")).app)
    for _ in range(3):
        httpx.get(first.url + "/livez")
    livez = {"method": "GET", "route": "/livez", "status": "200"}
    assert value(read_metrics(first), "gradio_portal_http_requests_total", **livez) == 3
    assert value(read_metrics(second), "gradio_portal_http_requests_total", **livez) == 0


def test_chat_turns_and_tokens_are_counted(portal: Portal, tmp_path: Path) -> None:
    import asyncio

    from gradio_portal.observability import PortalMetrics

    metrics = PortalMetrics()
    alice = portal.accounts.get("alice")
    assert alice is not None
    chat = ChatService(
        ConversationRepository(portal.database),
        EchoBackend(tokens_per_second=0, reply_tokens=5),
        stream_interval=0.01,
        metrics=metrics,
    )

    async def turn() -> None:
        started = await chat.start(alice.user, None, "Hello")
        async for _ in chat.reply(alice.user, started):
            pass

    asyncio.run(turn())
    found = samples(_exposition(metrics))
    assert value(found, "gradio_portal_chat_turns_total", outcome="complete") == 1
    assert value(found, "gradio_portal_chat_tokens_total") == 5


def _exposition(metrics: Any) -> str:
    from prometheus_client import generate_latest

    return generate_latest(metrics.registry).decode()


# -- /livez ---------------------------------------------------------------------------------


def test_livez_answers_without_touching_the_database(server: LiveServer) -> None:
    queries = "gradio_portal_database_query_duration_seconds_count"
    before = sum(v for (name, _), v in read_metrics(server).items() if name == queries)
    for _ in range(3):
        answer = httpx.get(server.url + "/livez")
        assert (answer.status_code, answer.json()) == (200, {"status": "ok"})
    after = sum(v for (name, _), v in read_metrics(server).items() if name == queries)
    assert after == before
    assert httpx.get(server.url + "/healthz").json()["database"] == "ok"


# -- OPTIONS and Allow ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/login", "GET, OPTIONS, POST"),
        ("/logout", "GET, OPTIONS, POST"),
        ("/admin/users", "GET, OPTIONS, POST"),
        ("/account/sessions", "GET, OPTIONS"),
        ("/account/password", "GET, OPTIONS, POST"),
        ("/healthz", "GET, OPTIONS"),
    ],
)
def test_options_lists_every_method_of_the_path(server: LiveServer, path: str, allow: str) -> None:
    answer = httpx.options(server.url + path)
    assert (answer.status_code, answer.headers["allow"]) == (204, allow)
    refused = httpx.request("PUT", server.url + path)
    assert (refused.status_code, refused.headers["allow"]) == (405, allow)


def test_options_on_the_chat_api_lists_its_methods(
    make_settings: Callable[..., PortalSettings], serve: Callable[..., LiveServer]
) -> None:
    from gradio_portal.chat import mount_chat

    portal = Portal(settings=make_settings())
    mount_chat(portal, backend=EchoBackend())
    server = serve(portal.app)
    answer = httpx.options(server.url + "/api/conversations/7")
    assert answer.status_code == 204
    methods = set(answer.headers["allow"].split(", "))
    assert {"GET", "DELETE", "OPTIONS"} <= methods
    assert httpx.options(server.url + "/no/such/path").status_code == 404


# -- docs/operations.md ---------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def test_the_scrape_configuration_shown_is_the_file_and_covers_every_process() -> None:
    import yaml

    from gradio_portal.supervisor import Supervisor

    shown = (ROOT / "deploy/prometheus.yml").read_text()
    body = shown[shown.index("scrape_configs:") :]
    assert body in (ROOT / "docs/operations.md").read_text()
    (job,) = yaml.safe_load(shown)["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    # `gradio-portal serve --processes 3 --port 8001`: one target per process it runs.
    expected = [url.removeprefix("http://") for url in Supervisor(3, 8001).urls]
    assert job["static_configs"][0]["targets"] == expected


def test_the_custom_metric_example_is_served_with_the_portals(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    serve: Callable[..., LiveServer],
    signed_in_client: Callable[..., httpx.Client],
) -> None:
    import importlib

    source = (ROOT / "docs/examples/custom_metric.py").read_text()
    snippet = re.search(
        r"```python\n(reports = Counter\(.*?)```", (ROOT / "docs/operations.md").read_text(), re.S
    )
    assert snippet is not None and snippet.group(1) in source
    monkeypatch.setenv("GRADIO_PORTAL_DATA_DIR", str(tmp_path / "data"))
    sys.modules.pop("docs.examples.custom_metric", None)
    try:
        module = importlib.import_module("docs.examples.custom_metric")
    finally:
        sys.modules.pop("docs.examples.custom_metric", None)
    module.portal.accounts.create("alice", PASSWORD, display_name="Alice")
    server = serve(module.app)
    client = signed_in_client(server, "alice", PASSWORD)
    built = GradioEvents(client, "/reports").call("build_report", ["csv"])
    assert built.output == ["csv report for Alice"]
    found = read_metrics(server)
    assert value(found, "myapp_reports_total", format="csv") == 1
    assert value(found, "gradio_portal_sign_ins_total", outcome="success") == 1
