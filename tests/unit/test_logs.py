"""The access log names routes, never a Gradio session, event, upload, file or share link."""

from __future__ import annotations

import logging

import pytest

from gradio_portal._logs import (
    RedactingFilter,
    install_access_log_filter,
    redact_target,
    redact_text,
)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (
            "/app/gradio_api/queue/data?session_hash=abc123",
            "/app/gradio_api/queue/data?session_hash=…",
        ),
        ("/app/gradio_api/heartbeat/abc123", "/app/gradio_api/heartbeat/…"),
        (
            "/app/gradio_api/stream/abc123/run/7/playlist.m3u8",
            "/app/gradio_api/stream/…/run/7/playlist.m3u8",
        ),
        ("/app/gradio_api/call/greet/0123abcd", "/app/gradio_api/call/greet/…"),
        ("/app/gradio_api/call/v2/greet/0123abcd", "/app/gradio_api/call/v2/greet/…"),
        ("/app/gradio_api/file=/tmp/gradio/secret.txt", "/app/gradio_api/file=…"),
        ("/app/gradio_api/file%3D/tmp/gradio/secret.txt", "/app/gradio_api/file%3D…"),
        ("/app/gradio_api/upload?upload_id=u1&x=", "/app/gradio_api/upload?upload_id=…&x=…"),
        ("/chat/?c=42", "/chat/?c=…"),
        ("/shared/q3Xv0mJ9c1T8yQ2p7Lr4Zs6Wd5Nf0Hk2Ba8Ee1Gu3Oi", "/shared/…"),
        ("/login?next=/shared/q3Xv0mJ9c1T8yQ2p7Lr4Zs6Wd5Nf0Hk2Ba8Ee1Gu3Oi", "/login?next=…"),
        ("/api/conversations/7/share", "/api/conversations/7/share"),
        ("/login", "/login"),
        ("/app/gradio_api/call/greet", "/app/gradio_api/call/greet"),
    ],
)
def test_identifying_parts_are_redacted(target: str, expected: str) -> None:
    assert redact_target(target) == expected


def test_the_filter_rewrites_uvicorns_access_record() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/app/gradio_api/heartbeat/secret-hash", "1.1", 200),
        None,
    )
    assert RedactingFilter().filter(record)
    assert "secret-hash" not in record.getMessage()
    assert "GET /app/gradio_api/heartbeat/… HTTP/1.1" in record.getMessage()


def test_a_portal_installs_the_filter_once() -> None:
    install_access_log_filter()
    install_access_log_filter()
    filters = logging.getLogger("uvicorn.access").filters
    assert sum(isinstance(f, RedactingFilter) for f in filters) == 1


def test_other_lines_lose_a_share_links_token() -> None:
    token = "q3Xv0mJ9c1T8yQ2p7Lr4Zs6Wd5Nf0Hk2Ba8Ee1Gu3Oi"
    text = redact_text(f"slow request 'GET /shared/{token}' from '/login?next=/shared/{token}'")
    assert token not in text
    assert text == "slow request 'GET /shared/…' from '/login?next=/shared/…'"
