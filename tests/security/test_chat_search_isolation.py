"""Searching conversations over real HTTP, two real users: whatever bob searches for, alice's
conversations never appear in his answers, not even in the total."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from tests.conftest import PASSWORD

from gradio_portal import Portal
from gradio_portal.chat import mount_chat
from gradio_portal.chat.repository import ConversationRepository
from gradio_portal.chat.search import search_words
from gradio_portal.testing import LiveServer, login

API = "/api/conversations"
ALICES = ("Alice's diagnosis", "My biopsy results came back benign, says doctor Quintana")
REPLY = "Glad to hear about the benign result: keep the 2025-11-30 follow-up appointment."


def _user_id(portal: Portal, username: str) -> int:
    account = portal.accounts.get(username)
    assert account is not None
    return account.user.id


def test_bob_never_finds_alices_conversations_by_any_of_her_words(
    portal: Portal,
    serve: Callable[[Any], LiveServer],
    client_for: Callable[[LiveServer], httpx.Client],
) -> None:
    mount_chat(portal)
    server = serve(portal.app)
    repo = ConversationRepository(portal.database)
    title, message = ALICES
    turn = repo.begin_turn(
        _user_id(portal, "alice"), None, message, title=title, context_chars=1000, recent_limit=10
    )
    repo.save_reply(_user_id(portal, "alice"), turn.reply_id, REPLY, complete=True)
    repo.begin_turn(
        _user_id(portal, "bob"),
        None,
        "weather",
        title="Weather",
        context_chars=1000,
        recent_limit=10,
    )
    alice, bob = client_for(server), client_for(server)
    assert login(alice, "alice", PASSWORD).status_code == 303
    assert login(bob, "bob", PASSWORD).status_code == 303

    words = sorted(set(search_words(" ".join((title, message, REPLY)))))
    assert len(words) > 15
    for word in words:
        for q in (word, word[:3], word.upper()):
            body = bob.get(API, params={"q": q}).json()
            assert body["items"] == [] and body["total"] == 0, q
            # alice, asking the same, finds her conversation: the word is really there.
            assert alice.get(API, params={"q": q}).json()["total"] == 1, q
    for q in (title, message[:200], " ".join(words[:16])):
        assert bob.get(API, params={"q": q}).json()["total"] == 0
    assert bob.get(API, params={"q": "weather"}).json()["total"] == 1
    # Pages past the end carry the total too; bob's still counts only his own.
    assert bob.get(API, params={"q": "the", "offset": 50}).json()["total"] == 0
