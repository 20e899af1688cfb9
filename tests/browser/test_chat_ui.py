"""The chat in Chromium: sign in, stream, reload, navigate, rename, delete, stop, isolation, XSS."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select
from tests.conftest import PASSWORD

from gradio_portal import Portal, PortalSettings
from gradio_portal.chat import mount_chat
from gradio_portal.chat.service import STOPPED
from gradio_portal.chat.ui import NOT_FOUND
from gradio_portal.storage.models import Conversation
from gradio_portal.testing import LiveServer, browser_login

pytestmark = pytest.mark.browser

TIMEOUT = 20_000  # ms, as in conftest's context: the machine is shared
XSS = (
    'Look: <img src=x onerror="window.__xss=(window.__xss||0)+1"> '
    "<script>window.__xss=99</script> [click](javascript:window.__xss=7) "
    '<svg onload="window.__xss=5"></svg>'
)


@pytest.fixture(autouse=True)
def _patient_expect() -> Iterator[None]:
    expect.set_options(timeout=TIMEOUT)
    yield
    expect.set_options(timeout=None)


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Portal:
    with pytest.MonkeyPatch.context() as env:
        for name in list(os.environ):
            if name.startswith("GRADIO_PORTAL_"):
                env.delenv(name)
        settings = PortalSettings(
            data_dir=tmp_path_factory.mktemp("chat-browser"),
            chat_echo_tokens_per_second=40,
            chat_stream_interval=0.05,
        )
        portal = Portal(settings=settings)
    for name, display in (
        ("alice", "Alice Liddell"),
        ("bob", "Bob"),
        ("carol", "Carol"),
        ("dave", "Dave"),
        ("erin", "Erin Example"),
    ):
        portal.accounts.create(name, PASSWORD, display_name=display)
    mount_chat(portal)
    return portal


@pytest.fixture(scope="module")
def server(portal: Portal) -> Iterator[LiveServer]:
    with LiveServer(portal.app) as live:
        yield live


def sign_in(page: Page, server: LiveServer, username: str, path: str = "/chat/") -> None:
    page.goto(server.url + path)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    browser_login(page, username, PASSWORD)
    expect(page.locator("#signed-in")).to_contain_text("Signed in as")


def send(page: Page, text: str) -> None:
    # Gradio ignores a submit while the previous one runs: wait until the chat is idle.
    expect(page.locator("#message [data-testid=submit-button]")).to_be_visible()
    page.fill("#message textarea", text)
    page.keyboard.press("Enter")


def replies(page: Page) -> list[str]:
    return [text.strip() for text in page.locator("#chat [data-testid=bot]").all_inner_texts()]


def wait_for_query(page: Page, query: str) -> None:
    # replaceState and full navigations alike: read the address the page has now.
    page.wait_for_function("q => window.location.search === q", arg=query)


def sidebar(page: Page) -> list[str]:
    return [t.strip() for t in page.locator("#conversation-list label").all_inner_texts()]


def conversation_ids(portal: Portal, username: str) -> list[int]:
    account = portal.accounts.get(username)
    assert account is not None
    with portal.database.session() as session:
        return list(
            session.scalars(
                select(Conversation.id)
                .where(Conversation.user_id == account.user.id)
                .order_by(Conversation.id)
            )
        )


def test_a_conversation_from_first_message_to_deletion(
    portal: Portal, server: LiveServer, context: BrowserContext
) -> None:
    page = context.new_page()
    sign_in(page, server, "alice")
    expect(page.locator("#signed-in")).to_contain_text("Signed in as Alice Liddell")
    # The page links to the account pages (administrators also see the admin pages).
    expect(page.locator("#signed-in a", has_text="Account")).to_have_attribute(
        "href", "/account/sessions"
    )
    expect(page.locator("#signed-in a", has_text="Users")).to_have_count(0)

    # The reply streams in; the page then names its conversation in the address bar.
    send(page, "What is the capital of Portugal")
    expect(page.locator("#chat [data-testid=bot]")).to_have_text(
        "You said: What is the capital of Portugal"
    )
    [first] = conversation_ids(portal, "alice")
    wait_for_query(page, f"?c={first}")
    expect(page.locator("#conversation-list label")).to_have_text(
        ["What is the capital of Portugal"]
    )

    page.reload()
    expect(page.locator("#chat [data-testid=user]")).to_have_text("What is the capital of Portugal")
    expect(page.locator("#chat [data-testid=bot]")).to_have_text(
        "You said: What is the capital of Portugal"
    )

    # New chat: a new history entry with an empty page; its first message makes it real.
    page.click("#new-chat")
    page.wait_for_function("() => window.location.search === ''")
    expect(page.locator("#chat [data-testid=user]")).to_have_count(0)
    send(page, "Second topic")
    expect(page.locator("#chat [data-testid=bot]")).to_have_text("You said: Second topic")
    second = conversation_ids(portal, "alice")[-1]
    wait_for_query(page, f"?c={second}")
    expect(page.locator("#conversation-list label")).to_have_text(
        ["Second topic", "What is the capital of Portugal"]
    )

    # Back by the sidebar, then by the back button.
    page.locator("#conversation-list label", has_text="capital").click()
    wait_for_query(page, f"?c={first}")
    expect(page.locator("#chat [data-testid=user]")).to_have_text("What is the capital of Portugal")
    page.go_back()
    wait_for_query(page, f"?c={second}")
    expect(page.locator("#chat [data-testid=user]")).to_have_text("Second topic")

    # Rename, kept across a reload.
    page.fill("#conversation-title textarea, #conversation-title input", "Trip planning")
    page.click("#rename")
    expect(page.locator("#conversation-list label").first).to_have_text("Trip planning")
    page.reload()
    expect(page.locator("#conversation-title textarea, #conversation-title input")).to_have_value(
        "Trip planning"
    )

    # Delete asks first; cancelling keeps it, confirming removes it and leaves its page.
    page.click("#delete")
    expect(page.locator("#confirm-delete")).to_be_visible()
    page.click("#cancel-delete")
    expect(page.locator("#confirm-delete")).to_be_hidden()
    page.click("#delete")
    page.click("#confirm")
    page.wait_for_function("() => window.location.search === ''")
    expect(page.locator("#conversation-list label")).to_have_text(
        ["What is the capital of Portugal"]
    )
    assert conversation_ids(portal, "alice") == [first]

    # Bob sees none of it, in the page or through the API.
    other = context.browser.new_context() if context.browser else None
    assert other is not None
    try:
        bob = other.new_page()
        sign_in(bob, server, "bob", path=f"/chat/?c={first}")
        expect(bob.locator("#notice")).to_have_text(NOT_FOUND)
        expect(bob.locator("#chat [data-testid=user]")).to_have_count(0)
        assert sidebar(bob) == []
        assert "capital" not in bob.content()
        wait_for_query(bob, "")  # the foreign id is dropped from the address bar
        listing = bob.request.get(server.url + "/api/conversations")
        assert listing.json()["items"] == []
        assert bob.request.get(f"{server.url}/api/conversations/{first}").status == 404
    finally:
        other.close()


def test_stop_keeps_the_partial_reply(
    portal: Portal, server: LiveServer, context: BrowserContext
) -> None:
    page = context.new_page()
    sign_in(page, server, "dave")
    words = " ".join(f"w{i}" for i in range(300))  # echoed at 40 words/s: 7.5 s
    send(page, words)
    expect(page.locator("#chat [data-testid=bot]")).to_contain_text("w5")
    page.click("#message [data-testid=stop-button]")
    expect(page.locator("#message [data-testid=submit-button]")).to_be_visible()
    [conversation_id] = conversation_ids(portal, "dave")

    page.reload()
    wait_for_query(page, f"?c={conversation_id}")
    expect(page.locator("#chat [data-testid=bot]")).to_contain_text(STOPPED)
    shown = replies(page)[0]
    assert "w299" not in shown and "w5" in shown


@pytest.mark.parametrize("csp", ["enforced", "bypassed"])
def test_injected_markup_is_rendered_inert(server: LiveServer, browser: Browser, csp: str) -> None:
    # With the portal's CSP and without it: the Chatbot's sanitiser alone must hold.
    context = browser.new_context(bypass_csp=csp == "bypassed")
    context.set_default_timeout(TIMEOUT)
    dialogs: list[str] = []
    try:
        page = context.new_page()
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        sign_in(page, server, "carol")
        send(page, XSS)
        expect(page.locator("#chat [data-testid=bot]")).to_contain_text("You said: Look:")
        page.reload()
        expect(page.locator("#chat [data-testid=bot]")).to_contain_text("You said: Look:")
        page.locator("#chat a", has_text="click").first.click()
        live = page.evaluate(
            """() => document.querySelectorAll(
                '#chat [onerror], #chat [onload], #chat script, #chat [href^="javascript"]'
            ).length"""
        )
        assert live == 0
        assert page.evaluate("window.__xss") is None
        assert dialogs == []
        # The title in the sidebar is plain text.
        assert "<img" in page.locator("#conversation-list label").first.inner_text()
    finally:
        context.close()


def test_screenshot_of_the_chat_page(server: LiveServer, context: BrowserContext) -> None:
    page = context.new_page()
    sign_in(page, server, "erin")
    send(page, "Plan a **three-day** trip to Lisbon:\n\n- food\n- museums\n- a day by the sea")
    expect(page.locator("#chat [data-testid=bot]")).to_contain_text("sea")
    send(page, "And what should I pack?")
    expect(page.locator("#chat [data-testid=bot]").nth(1)).to_contain_text("pack?")
    page.wait_for_timeout(300)
    page.screenshot(path="/tmp/chat.png")


def test_sign_out_is_one_click_and_ends_the_session(
    server: LiveServer, context: BrowserContext
) -> None:
    page = context.new_page()
    sign_in(page, server, "bob")
    page.click("#sign-out")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.goto(server.url + "/chat/")
    expect(page).to_have_url(re.compile(r"/login\?next=/chat/"))
