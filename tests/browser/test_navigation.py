"""Navigation decided in Python, followed by a real browser."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from tests.browser.nav_app import build_nav_app, build_other_app
from tests.conftest import PASSWORD

from gradio_portal import Portal
from gradio_portal.testing import LiveServer, browser_login


@pytest.fixture
def server(portal: Portal, serve: Callable[[Any], LiveServer]) -> LiveServer:
    portal.mount(build_nav_app(), "/nav")
    portal.mount(build_other_app(), "/other")
    return serve(portal.app)


@pytest.fixture
def signed_in(page: Page, server: LiveServer) -> Page:
    browser_login(page, "alice", PASSWORD, url=server.url + "/login")
    page.goto(server.url + "/nav/")
    expect(page.locator("#status textarea")).to_have_value("page /nav/")
    return page


def click(page: Page, elem_id: str) -> None:
    page.locator(f"#{elem_id}").click()


@pytest.mark.parametrize(
    ("button", "expected"),
    [
        ("returned", "/nav/?n=7"),
        ("raised", "/nav/?raised=1"),
        ("mid-stream", "/nav/?stream=done"),
        ("beside", "/nav/?beside=1"),
        ("other-app", "/other/"),
    ],
)
def test_handlers_navigate(signed_in: Page, server: LiveServer, button: str, expected: str) -> None:
    click(signed_in, button)
    expect(signed_in).to_have_url(server.url + expected)
    # The navigation carried no error toast.
    expect(signed_in.locator(".toast-body")).to_have_count(0)


def test_mid_stream_redirect_after_the_stream_showed_progress(
    signed_in: Page, server: LiveServer
) -> None:
    click(signed_in, "mid-stream")
    expect(signed_in).to_have_url(server.url + "/nav/?stream=done")
    expect(signed_in.locator("#status textarea")).to_have_value("page /nav/?stream=done")


def test_redirect_from_a_load_event(page: Page, signed_in: Page, server: LiveServer) -> None:
    page.goto(server.url + "/nav/?bounce=1")
    expect(page).to_have_url(server.url + "/nav/?bounced=1")


def test_push_adds_a_history_entry_and_replace_does_not(
    signed_in: Page, server: LiveServer
) -> None:
    before = signed_in.evaluate("history.length")
    click(signed_in, "returned")
    expect(signed_in).to_have_url(server.url + "/nav/?n=7")
    assert signed_in.evaluate("history.length") == before + 1
    signed_in.go_back()
    expect(signed_in).to_have_url(server.url + "/nav/")

    signed_in.goto(server.url + "/nav/?start=1")
    expect(signed_in.locator("#status textarea")).to_have_value("page /nav/?start=1")
    before = signed_in.evaluate("history.length")
    click(signed_in, "replace")
    expect(signed_in).to_have_url(server.url + "/nav/?replaced=1")
    assert signed_in.evaluate("history.length") == before
    signed_in.go_back()
    # The entry of /nav/?start=1 was replaced: back skips it.
    expect(signed_in).not_to_have_url(server.url + "/nav/?start=1")
    expect(signed_in).not_to_have_url(server.url + "/nav/?replaced=1")


@pytest.mark.parametrize(
    "target", ["//evil.example/", "javascript:alert(1)", "https://evil.example/", "/\\evil.example"]
)
def test_hostile_targets_are_refused_in_the_page(
    signed_in: Page, server: LiveServer, target: str
) -> None:
    signed_in.locator("#target textarea").fill(target)
    click(signed_in, "hostile")
    expect(signed_in.get_by_text("Refused to navigate to an unsafe address").first).to_be_visible()
    assert signed_in.url == server.url + "/nav/"


def test_logout_in_another_tab_sends_the_next_click_to_login(
    signed_in: Page, context: BrowserContext, server: LiveServer
) -> None:
    signed_in.goto(server.url + "/nav/?c=42")
    expect(signed_in.locator("#status textarea")).to_have_value("page /nav/?c=42")
    other = context.new_page()
    other.goto(server.url + "/logout")
    other.get_by_role("button", name="Sign out").click()
    expect(other).to_have_url(server.url + "/login")

    click(signed_in, "whoami")
    expect(signed_in).to_have_url(re.compile(re.escape(server.url + "/login?next=")))
    assert parse_qs(urlsplit(signed_in.url).query)["next"] == ["/nav/?c=42"]
    expect(signed_in.locator(".toast-body")).to_have_count(0)
