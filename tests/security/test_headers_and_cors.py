"""Response headers: security headers on every page, and no CORS permission for anyone.

Gradio's own CORS middleware echoes any ``Origin`` with ``Allow-Credentials: true`` whenever
the Host is not localhost (shown first, on bare Gradio). The portal configures CORS on the
host app, which makes Gradio's middleware stand down, and allows no origin.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from typing import Any

import gradio as gr
import httpx
import pytest
from fastapi import FastAPI
from tests.security.conftest import MOUNT, build_files_app

from gradio_portal.testing import LiveServer

PUBLIC_HOST = {"host": "portal.example.com"}
FOREIGN_ORIGINS = ["https://evil.example", "null", "http://127.0.0.1:1"]


def cors_headers(answer: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in answer.headers.items() if k.startswith("access-control-allow")}


def test_bare_gradio_echoes_a_foreign_origin(serve: Callable[[Any], LiveServer]) -> None:
    app = FastAPI()
    gr.mount_gradio_app(app, build_files_app(), MOUNT)
    with httpx.Client(base_url=serve(app).url, headers=PUBLIC_HOST) as client:
        answer = client.get(MOUNT + "/config", headers={"origin": "https://evil.example"})
        assert answer.headers["access-control-allow-origin"] == "https://evil.example"
        assert answer.headers["access-control-allow-credentials"] == "true"


@pytest.mark.parametrize("origin", FOREIGN_ORIGINS)
@pytest.mark.parametrize("host", [{}, PUBLIC_HOST], ids=["loopback", "public-host"])
def test_no_cors_permission_for_foreign_origins(
    signed_in: Callable[..., httpx.Client], origin: str, host: dict[str, str]
) -> None:
    alice = signed_in("alice")
    headers = {"origin": origin, **host}
    for path in (MOUNT + "/config", MOUNT + "/gradio_api/info", "/account/sessions", "/login"):
        answer = alice.get(path, headers=headers)
        assert "access-control-allow-origin" not in answer.headers, path
    preflight = alice.options(
        MOUNT + "/gradio_api/queue/join",
        headers={
            **headers,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        },
    )
    assert "access-control-allow-origin" not in preflight.headers
    assert preflight.status_code >= 400


def test_portal_pages_carry_security_headers(
    signed_in: Callable[..., httpx.Client], secured: LiveServer
) -> None:
    alice = signed_in("alice")
    with httpx.Client(base_url=secured.url) as anonymous:
        pages = [anonymous.get("/login")]
    pages += [alice.get(p) for p in ("/account/sessions", "/account/password", "/logout")]
    for page in pages:
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["referrer-policy"] == "same-origin"
        assert page.headers["cache-control"] == "no-store"
        policy = page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "script-src" not in policy
        assert "default-src 'self'" in policy


def test_the_gradio_page_gets_a_hash_based_script_policy(
    signed_in: Callable[..., httpx.Client],
) -> None:
    page = signed_in("alice").get(MOUNT + "/")
    assert page.status_code == 200
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "same-origin"
    directives = dict(
        d.strip().split(" ", 1) for d in page.headers["content-security-policy"].split(";")
    )
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    script_src = directives["script-src"].split()
    assert "'unsafe-inline'" not in script_src
    inline = re.findall(r"<script(?![^>]*\ssrc=)[^>]*>(.*?)</script>", page.text, re.S)
    assert inline, "Gradio's page has inline scripts"
    for body in inline:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in script_src


def test_other_responses_under_a_mount_are_sandboxed(
    signed_in: Callable[..., httpx.Client],
) -> None:
    alice = signed_in("alice")
    upload = alice.post(
        MOUNT + "/gradio_api/upload",
        files={"files": ("page.html", b"<script>alert(1)</script>", "text/html")},
    )
    [path] = upload.json()
    for answer in (alice.get(MOUNT + "/config"), alice.get(f"{MOUNT}/gradio_api/file={path}")):
        assert answer.status_code == 200
        assert "sandbox" in answer.headers["content-security-policy"]
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["cache-control"] == "no-store"
