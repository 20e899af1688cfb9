"""A person's first visit: sent to login, greeted by name, signed out, back button shows nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from tests.conftest import PASSWORD
from tests.support.home import build_home

from gradio_portal import Portal
from gradio_portal.testing import LiveServer, browser_login


@pytest.fixture
def server(portal: Portal, serve: Callable[[Any], LiveServer]) -> LiveServer:
    portal.mount(build_home(), "/home")
    return serve(portal.app)


def test_anonymous_visit_login_greeting_logout_and_back(page: Page, server: LiveServer) -> None:
    page.goto(server.url + "/home/")
    expect(page).to_have_url(server.url + "/login?next=/home/")
    expect(page.locator("h1")).to_have_text("Sign in")

    browser_login(page, "alice", "not the password")
    expect(page.locator(".error")).to_have_text("Invalid username or password.")

    browser_login(page, "alice", PASSWORD)
    expect(page).to_have_url(server.url + "/home/")
    expect(page.locator("#greeting")).to_contain_text("Welcome, Alice Liddell!")
    page.screenshot(path="/tmp/gradio-portal-home.png")

    page.get_by_role("link", name="Sign out").click()
    expect(page).to_have_url(server.url + "/logout")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(server.url + "/login")

    page.go_back()
    # Either the confirmation page (now redirecting to login) or the app, which must not
    # show private content: it comes back from the server, which sends it to login.
    page.wait_for_load_state()
    expect(page.get_by_text("Welcome, Alice")).to_have_count(0)
    page.goto(server.url + "/home/")
    expect(page).to_have_url(server.url + "/login?next=/home/")


def test_back_button_after_logout_does_not_show_the_app(page: Page, server: LiveServer) -> None:
    page.goto(server.url + "/home/")
    browser_login(page, "alice", PASSWORD)
    expect(page.locator("#greeting")).to_contain_text("Welcome, Alice Liddell!")
    # Sign out through a form post in the same tab, as the confirmation page does.
    page.goto(server.url + "/logout")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(server.url + "/login")
    page.go_back()  # /logout: now redirects to /login
    page.go_back()  # /home/: not cached (no-store), the server sends it to /login
    page.wait_for_load_state()
    expect(page.get_by_text("Welcome, Alice")).to_have_count(0)
    assert "/login" in page.url
