"""A share link in Chromium: another user signs in through it and reads the conversation; HTML
in a message is shown as text, never run; following a link in it sends no Referer."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, expect
from tests.conftest import PASSWORD
from tests.integration.test_chat_support import ChatTab, first_update

from gradio_portal import Portal, PortalSettings
from gradio_portal.chat import mount_chat
from gradio_portal.testing import LiveServer, browser_login, login

pytestmark = pytest.mark.browser

TIMEOUT = 20_000  # ms: the machine is shared
HOSTILE = (
    'Look: <img src=x onerror="window.__xss=(window.__xss||0)+1"> '
    "<script>window.__xss=99</script> [click](javascript:window.__xss=7) "
    '<svg onload="window.__xss=5"></svg> and [the sign-in page](/login?from=shared)'
)


@pytest.fixture(autouse=True)
def _patient_expect() -> Iterator[None]:
    expect.set_options(timeout=TIMEOUT)
    yield
    expect.set_options(timeout=None)


@pytest.fixture
def settings(make_settings: Callable[..., PortalSettings]) -> PortalSettings:
    return make_settings(chat_echo_tokens_per_second=0, chat_echo_reply_tokens=4)


@pytest.fixture
def server(portal: Portal, serve: Callable[[Any], LiveServer]) -> LiveServer:
    mount_chat(portal)
    return serve(portal.app)


def shared_link(server: LiveServer, *messages: str) -> str:
    """Alice's conversation of ``messages`` (one per turn), shared; its link's path."""
    with httpx.Client(base_url=server.url, timeout=30) as alice:
        assert login(alice, "alice", PASSWORD).status_code == 303
        tab = ChatTab(alice)
        page = first_update("send", tab.send(messages[0]))
        conversation_id = int(page["page_query"].removeprefix("?c="))
        for message in messages[1:]:
            assert tab.send(message).success
        made = alice.post(
            f"/api/conversations/{conversation_id}/share",
            headers={"X-Requested-With": "XMLHttpRequest"},
        )
        assert made.status_code == 201, made.text
        return str(made.json()["url"])


def test_a_second_user_signs_in_through_the_link_and_reads_it(
    server: LiveServer, context: BrowserContext
) -> None:
    link = shared_link(server, "What is the capital of **Portugal**?", HOSTILE)
    page = context.new_page()
    page.goto(server.url + link)
    expect(page).to_have_url(re.compile(r"/login\?next=/shared/"))
    browser_login(page, "bob", PASSWORD)
    page.wait_for_url(server.url + link)
    page.wait_for_load_state("load")

    expect(page.locator("#shared-by")).to_contain_text("Shared by Alice Liddell")
    messages = page.locator("article.message")
    expect(messages).to_have_count(4)
    expect(messages.nth(0)).to_contain_text("What is the capital of Portugal?")
    expect(messages.nth(0).locator("strong")).to_have_text("Portugal")
    expect(messages.nth(1)).to_contain_text("You said:")

    # The hostile message is text: its markup is visible, and none of it ran.
    hostile = messages.nth(2)
    expect(hostile).to_contain_text('<img src=x onerror="window.__xss=(window.__xss||0)+1">')
    expect(hostile).to_contain_text("<script>window.__xss=99</script>")
    expect(hostile.locator("img, script, svg")).to_have_count(0)
    expect(hostile.locator("a", has_text="click")).to_have_count(0)
    assert page.evaluate("window.__xss") is None

    # A link in a message sends no Referer: the token stays in this page.
    anchor = hostile.locator("a", has_text="the sign-in page")
    expect(anchor).to_have_attribute("rel", "noopener noreferrer nofollow")
    with page.expect_request(re.compile(r"/login\?from=shared")) as followed:
        anchor.click()
    assert "referer" not in followed.value.headers
    page.wait_for_load_state("load")
    assert page.evaluate("window.__xss") is None
