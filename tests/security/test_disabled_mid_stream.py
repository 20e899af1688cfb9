"""A reply that is streaming when its account is disabled stops, and keeps what it wrote."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from tests.integration.test_chat import slow_chat
from tests.integration.test_chat_support import stored_messages, wait_for

from gradio_portal import PortalSettings
from gradio_portal.chat.ui.handlers import LIVENESS_INTERVAL
from gradio_portal.testing import LiveServer


def test_a_reply_stops_when_its_account_is_disabled(
    make_settings: Callable[..., PortalSettings],
    serve: Callable[[Any], LiveServer],
    signed_in_client: Callable[..., httpx.Client],
) -> None:
    portal, tab = slow_chat(make_settings, serve, signed_in_client)  # a 10 s reply
    assert tab.call("send", ["Tell me a long story", None, None]).success
    tab.join("stream_reply", [None])
    with tab.stream() as messages:
        started = time.monotonic()
        for message in messages:
            if message.get("msg") == "process_generating" and time.monotonic() - started > 0.5:
                break
        carol = portal.accounts.set_active("carol", False)
        portal.sessions.end_all(carol.id)  # what the admin page and the command do
        disabled_at = time.monotonic()
        completed = next(m for m in messages if m.get("msg") == "process_completed")
        stopped_after = time.monotonic() - disabled_at
    assert stopped_after < LIVENESS_INTERVAL + 3, "the reply went on streaming"
    # The page is sent to the sign-in page.
    assert not completed["success"]
    assert "gradio-portal:navigate:" in completed["output"]["error"]
    assert "/login" in completed["output"]["error"]
    reply = wait_for(lambda: stored_messages(portal, 1)[1].error and stored_messages(portal, 1)[1])
    assert not reply.complete and reply.content
