"""The parts of observability that need no server: ids, formats, access, templates, Allow."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sys
from collections.abc import Iterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from prometheus_client import generate_latest
from starlette.requests import Request

from gradio_portal import ConfigurationError, PortalSettings
from gradio_portal._logs import redact_text
from gradio_portal.observability import (
    REQUEST_ID,
    MetricsAccess,
    PortalMetrics,
    RouteTemplates,
    configure_logging,
    security_event,
)
from gradio_portal.observability.logs import JsonFormatter, RequestContextFilter, TextFormatter
from gradio_portal.observability.request_id import accepted_request_id, new_request_id
from gradio_portal.pages.methods import answer_allowed_methods


@pytest.mark.parametrize(
    ("raw", "accepted"),
    [
        (b"0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef"),
        (b"nginx-1.2:3_x", "nginx-1.2:3_x"),
        (b"a" * 64, "a" * 64),
        (b"a" * 65, None),
        (b"", None),
        (b"two words", None),
        (b"line\nbreak", None),
        (b"quote'd", None),
        ("caf\u00e9".encode(), None),
    ],
)
def test_only_short_plain_request_ids_are_kept(raw: bytes, accepted: str | None) -> None:
    assert accepted_request_id(raw) == accepted


def test_new_request_ids_are_32_hex_digits() -> None:
    first, second = new_request_id(), new_request_id()
    assert first != second
    assert len(first) == 32 and int(first, 16) >= 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/app/gradio_api/heartbeat/abc123 ended", "/app/gradio_api/heartbeat/… ended"),
        ("'/app/gradio_api/file=/tmp/x y'", "'/app/gradio_api/file=… y'"),
        ("saw session_hash=abc123 twice", "saw session_hash=… twice"),
        ("'/setup?token=s3cr3t'", "'/setup?token=…'"),
        ("upload_id=u1&x=1", "upload_id=…&x=1"),
        ("a plain message with a=b", "a plain message with a=b"),
        ("mytoken=kept", "mytoken=kept"),
    ],
)
def test_any_log_text_loses_session_hashes_and_secrets(text: str, expected: str) -> None:
    assert redact_text(text) == expected


def _record(message: str, *args: object, name: str = "gradio_portal.test") -> logging.LogRecord:
    record = logging.LogRecord(name, logging.WARNING, __file__, 1, message, args or None, None)
    record.created = 1_700_000_000.25
    return record


def _filtered(record: logging.LogRecord, request_id: str | None) -> logging.LogRecord:
    token = REQUEST_ID.set(request_id)
    try:
        assert RequestContextFilter().filter(record)
    finally:
        REQUEST_ID.reset(token)
    return record


def test_the_text_line_has_time_level_logger_request_id_and_message() -> None:
    record = _filtered(_record("seen %s", "/app/gradio_api/heartbeat/h1"), "r1")
    assert TextFormatter().format(record) == (
        "2023-11-14T22:13:20.250Z WARNING gradio_portal.test [r1] seen /app/gradio_api/heartbeat/…"
    )
    assert "[-]" in TextFormatter().format(_filtered(_record("outside"), None))


def test_the_json_line_has_the_same_and_the_extras() -> None:
    record = _filtered(_record("sign_in.failed user='x'"), "r2")
    record.event, record.user = "sign_in.failed", "x"
    assert json.loads(JsonFormatter().format(record)) == {
        "time": "2023-11-14T22:13:20.250Z",
        "level": "WARNING",
        "logger": "gradio_portal.test",
        "request_id": "r2",
        "message": "sign_in.failed user='x'",
        "event": "sign_in.failed",
        "user": "x",
    }


def test_the_json_line_of_an_access_record_has_its_fields_redacted() -> None:
    from gradio_portal._logs import RedactingFilter

    record = _record(
        '%s - "%s %s HTTP/%s" %d',
        "127.0.0.1:5000",
        "GET",
        "/app/gradio_api/queue/data?session_hash=secret",
        "1.1",
        200,
        name="uvicorn.access",
    )
    RedactingFilter().filter(record)
    entry = json.loads(JsonFormatter().format(_filtered(record, "r3")))
    assert entry["path"] == "/app/gradio_api/queue/data?session_hash=…"
    assert (entry["method"], entry["status"], entry["client"]) == ("GET", 200, "127.0.0.1:5000")
    assert "secret" not in json.dumps(entry)


def test_the_json_line_carries_the_traceback() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = _record("failed")
        record.exc_info = sys.exc_info()
    entry = json.loads(JsonFormatter().format(_filtered(record, None)))
    assert "ValueError: boom" in entry["exception"]


@pytest.fixture
def restored_logging() -> Iterator[None]:
    names = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")
    names += ("httpx", "httpcore", "watchfiles")
    saved = [
        (lg, lg.handlers[:], lg.level, lg.propagate, lg.filters[:])
        for lg in (logging.getLogger(name) for name in names)
    ]
    yield
    logging.captureWarnings(False)
    for lg, handlers, level, propagate, filters in saved:
        lg.handlers[:] = handlers
        lg.setLevel(level)
        lg.propagate = propagate
        lg.filters[:] = filters


@pytest.mark.usefixtures("restored_logging")
def test_configure_logging_writes_json_from_the_level_set() -> None:
    stream = io.StringIO()
    config = configure_logging(
        PortalSettings(log_format="json", log_level="warning"), stream=stream
    )
    assert config["root"]["level"] == "WARNING"
    token = REQUEST_ID.set("r4")
    try:
        logging.getLogger("gradio_portal.x").info("not shown")
        logging.getLogger("uvicorn.error").warning("shown, %s", "once")
    finally:
        REQUEST_ID.reset(token)
    lines = stream.getvalue().splitlines()
    assert [json.loads(line)["message"] for line in lines] == ["shown, once"]
    assert json.loads(lines[0])["request_id"] == "r4"


def test_a_security_event_quotes_names_and_never_takes_a_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    request = Request({"type": "http", "client": ("10.0.0.7", 1), "headers": []})
    with caplog.at_level(logging.INFO, logger="gradio_portal.security"):
        security_event("sign_in.failed", request, user="eve\nINFO forged", level=logging.WARNING)
        security_event("admin.user_created", request, user="ada", target="bob", admin=True)
    failed, created = caplog.records
    assert failed.getMessage() == "sign_in.failed user='eve\\nINFO forged' client=10.0.0.7"
    assert failed.levelno == logging.WARNING
    assert (
        created.getMessage()
        == "admin.user_created user='ada' client=10.0.0.7 target='bob' admin=True"
    )
    fields = vars(created)
    assert (fields["event"], fields["user"], fields["target"]) == (
        "admin.user_created",
        "ada",
        "bob",
    )


def test_metrics_access_by_address_block_or_token() -> None:
    access = MetricsAccess(["127.0.0.1/32", "10.0.0.0/8", "::1/128"], "tok-123")
    assert access.permits("127.0.0.1", None)
    assert access.permits("10.20.30.40", None)
    assert access.permits("::ffff:10.1.2.3", None)  # IPv4 as an IPv6 socket reports it
    assert access.permits("::1", None)
    assert not access.permits("203.0.113.9", None)
    assert not access.permits("testclient", None)
    assert not access.permits(None, None)
    assert access.permits("203.0.113.9", "Bearer tok-123")
    assert not access.permits("203.0.113.9", "Bearer tok-1234")
    assert not access.permits("203.0.113.9", "tok-123")
    assert not MetricsAccess([], None).permits("127.0.0.1", "Bearer ")


def test_a_bad_address_block_says_how_to_write_one() -> None:
    with pytest.raises(ConfigurationError, match="GRADIO_PORTAL_METRICS_ALLOW has 'localhost'"):
        MetricsAccess(["localhost"], None)


def _app() -> FastAPI:
    app = FastAPI()
    api = APIRouter(prefix="/api")

    @api.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @api.delete("/items/{item_id}")
    async def drop(item_id: int) -> None:
        return None

    @app.get("/form")
    async def form() -> str:
        return "form"

    @app.post("/form")
    async def post_form() -> str:
        return "posted"

    sub = FastAPI()

    @sub.get("/inner/{name}")
    async def inner(name: str) -> str:
        return name

    app.include_router(api)
    app.mount("/sub", sub)
    return app


def test_route_templates_follow_included_routers_and_mounts() -> None:
    templates = RouteTemplates(_app())
    assert templates.template("GET", "/api/items/42") == "/api/items/{item_id}"
    assert templates.template("PUT", "/api/items/42") == "/api/items/{item_id}"
    assert templates.template("POST", "/form") == "/form"
    assert templates.template("GET", "/sub/inner/ada") == "/sub/inner/{name}"
    assert templates.template("GET", "/sub/elsewhere") == "/sub/{path}"
    assert templates.template("GET", "/nothing/here") == "unmatched"


def test_route_templates_forget_when_full() -> None:
    templates = RouteTemplates(_app(), remember=2)
    for n in range(10):
        assert templates.template("GET", f"/api/items/{n}") == "/api/items/{item_id}"
    assert len(templates._known) <= 2


def test_request_metrics_bound_methods_to_a_known_set() -> None:
    metrics = PortalMetrics()
    assert metrics.method_label("BREW") == "other"
    metrics.request("GET", "/login", 200, 0.01)
    metrics.request(metrics.method_label("BREW"), "/login", 405, 0.01)
    text = generate_latest(metrics.registry).decode()
    assert 'gradio_portal_http_requests_total{method="GET",route="/login",status="200"} 1.0' in text
    assert (
        'gradio_portal_http_requests_total{method="other",route="/login",status="405"} 1.0' in text
    )


def test_options_and_405_list_every_method_of_the_path() -> None:
    app = _app()
    answer_allowed_methods(app)

    async def check() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            options = await client.options("/form")
            assert (options.status_code, options.headers["allow"]) == (204, "GET, OPTIONS, POST")
            put = await client.put("/form")
            assert (put.status_code, put.headers["allow"]) == (405, "GET, OPTIONS, POST")
            assert put.json() == {"detail": "Method Not Allowed"}
            item = await client.options("/api/items/1")
            assert item.headers["allow"] == "DELETE, GET, OPTIONS"
            assert (await client.get("/nope")).status_code == 404

    asyncio.run(check())
