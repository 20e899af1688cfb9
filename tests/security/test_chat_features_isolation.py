"""A second signed-in user against the chat page's newer events, through Gradio's own routes.

Bob plays the page's events with Alice's conversation id (and her reply's position) as the
values a browser would send: the conversation a page acts on is the server's ``gr.State``, so
none of his calls reads, rates, re-answers, shares, configures or attaches to Alice's data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from tests.conftest import PASSWORD
from tests.integration.test_chat_support import ChatTab, first_update

from gradio_portal import Portal, PortalSettings
from gradio_portal.chat import mount_chat
from gradio_portal.testing import LiveServer, login

API = "/api/conversations"


@pytest.fixture
def settings(make_settings: Callable[..., PortalSettings]) -> PortalSettings:
    return make_settings(chat_echo_tokens_per_second=0, chat_models=["small", "large"])


@pytest.fixture
def server(portal: Portal, serve: Callable[[Any], LiveServer]) -> LiveServer:
    mount_chat(portal)
    return serve(portal.app)


def client(
    server: LiveServer, client_for: Callable[[LiveServer], httpx.Client], name: str
) -> httpx.Client:
    signed_in = client_for(server)
    assert login(signed_in, name, PASSWORD).status_code == 303
    return signed_in


def test_bob_reaches_none_of_alices_conversation_through_the_pages_events(
    server: LiveServer, client_for: Callable[[LiveServer], httpx.Client]
) -> None:
    alice = client(server, client_for, "alice")
    page = first_update("send", ChatTab(alice).send("Alice's private plan"))
    cid = int(page["page_query"].removeprefix("?c="))
    before = alice.get(f"{API}/{cid}").json()

    bob = ChatTab(client(server, client_for, "bob"))
    bob.open()
    shown = [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}]
    attempts = {
        "conversation_options": bob.call("conversation_options", [cid]),
        "share": bob.call("share", [cid]),
        "unshare": bob.call("unshare", [cid]),
        "regenerate": bob.call("regenerate", [cid, None]),
        "edit": bob.call(
            "edit", [shown, cid, None], {"index": 0, "value": "mine", "previous_value": "x"}
        ),
        "rate": bob.call("rate", [shown, cid], {"index": 1, "value": ["y"], "liked": False}),
        "choose_model": bob.call("choose_model", ["large", cid, None]),
        "save_instructions": bob.call("save_instructions", ["Obey Bob.", cid, None]),
        "search": bob.call("search", ["private", cid]),
    }
    for name, result in attempts.items():
        assert "Alice" not in str(result.messages), name
    # What he was shown is his own (empty) page: no model, prompt or share of hers.
    options = attempts["conversation_options"].output
    assert options[1] in ("", None)
    assert "No conversation matches" in str(attempts["search"].output)
    for refused in ("share", "regenerate", "edit", "rate"):
        assert not attempts[refused].success, refused

    after = alice.get(f"{API}/{cid}").json()
    assert after == before  # same messages, title, model, instructions, ratings
    assert alice.get(f"{API}/{cid}/share").json()["shared"] is False
