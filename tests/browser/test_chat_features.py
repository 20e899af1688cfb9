"""The chat page's newer controls in Chromium: regenerate, edit, ratings, model and instructions,
share links, search, attachments, the daily limit and the account links; a second user sees
none of the first one's data through them."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from tests.conftest import PASSWORD

from gradio_portal import Portal, PortalSettings
from gradio_portal.chat import mount_chat
from gradio_portal.testing import LiveServer, browser_login

pytestmark = pytest.mark.browser

TIMEOUT = 20_000  # ms, as in conftest's context: the machine is shared
API = "/api/conversations"


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
            data_dir=tmp_path_factory.mktemp("chat-features"),
            chat_echo_tokens_per_second=200,
            chat_stream_interval=0.05,
            chat_models=["small", "large"],
            chat_daily_message_limit=12,
        )
        portal = Portal(settings=settings)
    portal.accounts.create("alice", PASSWORD, display_name="Alice Liddell")
    portal.accounts.create("bob", PASSWORD, display_name="Bob")
    portal.accounts.create("quinn", PASSWORD, display_name="Quinn")
    portal.accounts.create("root", PASSWORD, display_name="Root", roles=("admin",))
    mount_chat(portal)
    return portal


@pytest.fixture(scope="module")
def server(portal: Portal) -> Iterator[LiveServer]:
    with LiveServer(portal.app) as live:
        yield live


@pytest.fixture
def context(browser: Browser, server: LiveServer) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    context.set_default_timeout(TIMEOUT)
    yield context
    context.close()


def sign_in(page: Page, server: LiveServer, username: str) -> None:
    page.goto(server.url + "/chat/")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    browser_login(page, username, PASSWORD)
    expect(page.locator("#signed-in")).to_contain_text("Signed in as")


def send(page: Page, text: str) -> None:
    idle(page)
    page.fill("#message textarea", text)
    page.keyboard.press("Enter")
    expect(page.locator("#chat")).to_contain_text(f"You said: {text}")
    idle(page)


def idle(page: Page) -> None:
    """The chat is ready for the next message (no reply streams)."""
    expect(page.locator("#message [data-testid=submit-button]")).to_be_visible()


def conversation_id(page: Page) -> int:
    expect(page).to_have_url(re.compile(r"\?c=\d+$"))
    return int(page.url.rsplit("=", 1)[1])


def stored(page: Page, cid: int) -> dict:
    response = page.request.get(f"{page.url.split('/chat')[0]}{API}/{cid}")
    assert response.status == 200
    return response.json()


def test_regenerate_and_edit_the_last_message(context: BrowserContext, server: LiveServer) -> None:
    page = context.new_page()
    sign_in(page, server, "alice")
    send(page, "Frist try")
    cid = conversation_id(page)
    replies = [m["id"] for m in stored(page, cid)["messages"] if m["role"] == "assistant"]

    page.locator("#chat button[aria-label=Retry]").last.click()
    page.wait_for_function(
        """async ([url, old]) => {
          const messages = (await (await fetch(url)).json()).messages;
          return messages.length === 2 && messages[1].id !== old && messages[1].complete;
        }""",
        arg=[f"{API}/{cid}", replies[-1]],
    )
    expect(page.locator("#chat")).to_contain_text("You said: Frist try")
    idle(page)

    page.locator("#chat button[aria-label=Edit]").last.click()
    editor = page.locator("#chat textarea").last
    editor.fill("First try")
    page.locator("#chat button[aria-label=Submit]").click()
    expect(page.locator("#chat")).to_contain_text("You said: First try")
    idle(page)
    page.wait_for_function(
        """async (url) => (await (await fetch(url)).json()).messages.at(-1).complete""",
        arg=f"{API}/{cid}",
    )
    assert [(m["role"], m["content"]) for m in stored(page, cid)["messages"]] == [
        ("user", "First try"),
        ("assistant", "You said: First try"),
    ]


def test_a_rating_and_its_comment_are_stored_and_shown_after_a_reload(
    context: BrowserContext, server: LiveServer
) -> None:
    page = context.new_page()
    sign_in(page, server, "alice")
    send(page, "Rate this")
    cid = conversation_id(page)
    page.locator("#chat button[aria-label=Dislike]").last.click()
    expect(page.locator("#feedback-row")).to_be_visible()
    page.fill("#feedback-comment textarea", "Not what I asked.")
    page.click("#send-feedback")
    expect(page.locator("#feedback-row")).to_be_hidden()
    reply = stored(page, cid)["messages"][-1]
    assert (reply["feedback"], reply["feedback_comment"]) == ("down", "Not what I asked.")
    page.locator("#chat button[aria-label=Like]").last.click()
    expect(page.locator("#feedback-row")).to_be_visible()
    page.wait_for_function(
        """async (url) => (await (await fetch(url)).json()).messages.at(-1).feedback === "up" """,
        arg=f"{API}/{cid}",
    )
    # A reload shows the stored rating (the button of a chosen thumb says so).
    page.reload()
    page.wait_for_load_state("load")
    expect(page.locator("#chat")).to_contain_text("Rate this")
    expect(page.locator("#chat button[aria-label=Liked]")).to_have_count(1)
    expect(page.locator("#chat button[aria-label=Dislike]")).to_have_count(1)


def test_model_and_instructions_belong_to_the_conversation(
    context: BrowserContext, server: LiveServer
) -> None:
    page = context.new_page()
    sign_in(page, server, "alice")
    page.click("#options")
    page.locator("#model input").click()
    page.get_by_role("option", name="large").click()
    page.fill("#system-prompt textarea", "Answer briefly.")
    page.click("#save-options")
    expect(page.locator(".toast-body")).to_contain_text("Saved")
    send(page, "With choices")
    cid = conversation_id(page)
    info = stored(page, cid)
    assert (info["model"], info["system_prompt"]) == ("large", "Answer briefly.")

    page.reload()
    page.wait_for_load_state("load")
    page.click("#options")
    expect(page.locator("#model input")).to_have_value("large")
    expect(page.locator("#system-prompt textarea")).to_have_value("Answer briefly.")
    page.locator("#model input").click()
    page.get_by_role("option", name="small").click()
    page.wait_for_function(
        """async (url) => (await (await fetch(url)).json()).model === "small" """,
        arg=f"{API}/{cid}",
    )


def test_share_copies_a_link_another_user_reads_and_revoking_ends_it(
    browser: Browser, context: BrowserContext, server: LiveServer
) -> None:
    page = context.new_page()
    sign_in(page, server, "alice")
    send(page, "Shared thoughts")
    page.click("#share")
    expect(page.locator("#share-row")).to_be_visible()
    expect(page.locator("#share-note")).to_contain_text("/shared/")
    # The page copies the link right after the event that made it: wait for the clipboard.
    page.wait_for_function(
        "async () => (await navigator.clipboard.readText()).includes('/shared/')"
    )
    link = page.evaluate("navigator.clipboard.readText()")
    assert re.fullmatch(re.escape(server.url) + r"/shared/[A-Za-z0-9_-]{43}", link)

    reader = browser.new_context()
    other = reader.new_page()
    other.goto(link)
    browser_login(other, "bob", PASSWORD)
    expect(other).to_have_url(link)
    expect(other.locator("body")).to_contain_text("You said: Shared thoughts")

    page.click("#unshare")
    expect(page.locator("#share-row")).to_be_hidden()
    assert other.goto(link).status == 404
    reader.close()


def test_search_lists_matching_conversations_only_of_their_owner(
    context: BrowserContext, server: LiveServer, browser: Browser
) -> None:
    page = context.new_page()
    sign_in(page, server, "alice")
    send(page, "Packing list for Lisbon")
    page.click("#new-chat")
    expect(page).to_have_url(re.compile(r"/chat/$"))
    send(page, "Recipe for bread")
    page.fill("#search input", "lisb")
    expect(page.locator("#conversation-list")).to_contain_text("Packing list for Lisbon")
    expect(page.locator("#conversation-list")).not_to_contain_text("Recipe for bread")
    expect(page.locator("#sidebar-note")).to_contain_text("1 conversation found")
    page.fill("#search input", "")
    expect(page.locator("#conversation-list")).to_contain_text("Recipe for bread")

    intruder = browser.new_context()
    other = intruder.new_page()
    sign_in(other, server, "bob")
    other.fill("#search input", "lisbon")
    expect(other.locator("#sidebar-note")).to_contain_text("No conversation matches")
    expect(other.locator("#conversation-list")).not_to_contain_text("Lisbon")
    intruder.close()


def test_attached_files_are_sent_shown_and_only_their_owner_downloads_them(
    context: BrowserContext, server: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("# Notes\nThe secret word is heliotrope.\n")
    page = context.new_page()
    sign_in(page, server, "alice")
    page.locator("#attachments input[type=file]").set_input_files(str(notes))
    expect(page.locator("#attached")).to_contain_text("notes.md")
    send(page, "Summarize my notes")
    expect(page.locator("#attached")).to_be_hidden()
    link = page.locator("#chat a", has_text="notes.md")
    expect(link).to_be_visible()
    href = link.get_attribute("href")
    assert href and re.fullmatch(r"/api/attachments/\d+", href)
    assert page.request.get(server.url + href).text().startswith("# Notes")

    intruder = browser.new_context()
    other = intruder.new_page()
    sign_in(other, server, "bob")
    assert other.request.get(server.url + href).status == 404
    intruder.close()

    refused = tmp_path / "tool.exe"
    refused.write_bytes(b"MZ\x90\x00" * 10)
    page.locator("#attachments input[type=file]").set_input_files(str(refused))
    expect(page.locator(".toast-body")).to_contain_text("tool.exe")


def test_the_daily_limit_is_a_readable_message(
    context: BrowserContext, server: LiveServer, portal: Portal
) -> None:
    page = context.new_page()
    sign_in(page, server, "quinn")
    for n in range(12):
        send(page, f"message {n}")
    page.fill("#message textarea", "one too many")
    page.keyboard.press("Enter")
    expect(page.locator("#notice")).to_contain_text("Message not sent")
    expect(page.locator("#notice")).to_contain_text("daily limit")
    expect(page.locator("#notice")).to_contain_text("00:00 UTC")
    # Nothing is lost: the text waits in the box.
    expect(page.locator("#message textarea")).to_have_value("one too many")


def test_account_and_admin_links(context: BrowserContext, server: LiveServer) -> None:
    page = context.new_page()
    sign_in(page, server, "root")
    links = page.locator("#signed-in a")
    expect(links).to_have_text(
        ["Account", "Password", "Access tokens", "Users", "Chat settings", "All tokens", "Audit"]
    )
    hrefs = [link.get_attribute("href") for link in links.all()]
    assert hrefs == [
        "/account/sessions",
        "/account/password",
        "/account/tokens",
        "/admin/users",
        "/admin/chat",
        "/admin/tokens",
        "/admin/audit",
    ]
    for href in hrefs:
        assert page.request.get(server.url + href).status == 200, href
