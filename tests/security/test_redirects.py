"""Hostile ``next=`` values never send the browser off the portal's origin.

Every Location the portal answers with is resolved the way a browser does (WHATWG parser,
ada) against the URL that produced it, and must stay on the portal's origin. The corpus is
the one the URL check is unit-tested with (tests/unit/test_urls.py).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

import ada_url
import httpx
import pytest
from tests.conftest import PASSWORD
from tests.security.conftest import MOUNT
from tests.unit.test_urls import REJECTED

from gradio_portal.testing import LiveServer, login

SAMPLE = [
    "//evil.example/",
    "https://evil.example/",
    "/\\evil.example",
    "javascript:alert(1)",
    "/%2F%2Fevil.example",
    "\x00//evil.example",
    '"><script>alert(1)</script>',
]


def stays_home(answer: httpx.Response, server: LiveServer) -> bool:
    location = answer.headers["location"]
    resolved = ada_url.URL(location, str(answer.request.url))
    return bool(resolved.origin == server.url and not resolved.pathname.startswith("//"))


def test_signed_in_login_page_redirects_stay_on_the_origin(
    signed_in: Callable[..., httpx.Client], secured: LiveServer
) -> None:
    alice = signed_in("alice")
    for hostile in REJECTED:
        answer = alice.get("/login", params={"next": hostile})
        assert answer.status_code == 303, hostile
        assert stays_home(answer, secured), (hostile, answer.headers["location"])


@pytest.mark.parametrize("hostile", SAMPLE)
def test_signing_in_with_a_hostile_next_lands_at_home(
    secured: LiveServer, client_for: Callable[[LiveServer], httpx.Client], hostile: str
) -> None:
    client = client_for(secured)
    page = client.get("/login", params={"next": hostile})
    assert "<script>alert" not in page.text  # never echoed into the form either
    answer = login(client, "alice", PASSWORD, next=hostile)
    assert answer.status_code == 303
    assert answer.headers["location"] == MOUNT + "/"


def test_the_guard_redirect_embeds_only_safe_pages(secured: LiveServer) -> None:
    with httpx.Client(base_url=secured.url, headers={"accept": "text/html"}) as anonymous:
        for page in (
            MOUNT + "/",
            MOUNT + "//evil.example/",
            MOUNT + "/?next=https://evil.example",
            MOUNT + "/%2F%2Fevil.example",
        ):
            answer = anonymous.get(page)
            assert answer.status_code == 303
            assert stays_home(answer, secured)
            location = answer.headers["location"]
            assert location.startswith("/login")
            # Whatever comes back as next= is itself judged again at sign-in.
            signed = login(anonymous, "alice", PASSWORD, next=location.partition("next=")[2])
            assert stays_home(signed, secured)
            anonymous.cookies.clear()


def test_sign_in_pages_redirect_to_themselves_safely(secured: LiveServer) -> None:
    with httpx.Client(base_url=secured.url) as anonymous:
        for page in ("/account/sessions", "/admin/users"):
            hostile = page + "?next=" + quote("//evil.example")
            answer = anonymous.get(hostile)
            assert answer.status_code == 303 and stays_home(answer, secured)


def test_the_sign_out_page_ignores_a_foreign_referer(
    signed_in: Callable[..., httpx.Client],
) -> None:
    page = signed_in("alice").get("/logout", headers={"referer": "https://evil.example/x"})
    assert page.status_code == 200
    assert "evil.example" not in page.text
