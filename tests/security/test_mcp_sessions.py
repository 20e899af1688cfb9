"""An MCP session over SSE is its caller's alone: bob, signed in, holding the ``session_id`` of
alice's SSE session, can neither post into it nor learn that it exists.

Gradio's MCP server takes the SSE transport's messages at ``.../mcp/messages/?session_id=<id>``
and runs them in the session named, answering on that session's stream, whoever posts them.
Without the portal's binding bob's ``tools/call`` would run, and its answer would reach alice's
client under a request id bob chose.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import gradio as gr
import httpx
import pytest
from tests.conftest import PASSWORD

from gradio_portal import Context, Portal
from gradio_portal.testing import LiveServer

MOUNT = "/tools"
SSE = f"{MOUNT}/gradio_api/mcp/sse"
STREAM = {"accept": "text/event-stream"}


def whoami(greeting: str, ctx: Context) -> str:
    """Greet the caller.

    Args:
        greeting: the word to greet with
    """
    return f"{greeting}, {ctx.user.username}"


def size_of(document: str) -> str:
    """The size of a document.

    Args:
        document: the document
    """
    return f"{Path(document).stat().st_size} bytes"


def tools_app() -> gr.Blocks:
    with gr.Blocks() as demo:
        text, out = gr.Textbox(), gr.Textbox()
        gr.Button().click(whoami, text, out, api_name="whoami", queue=False)
        document = gr.File(type="filepath")
        gr.Button().click(size_of, document, out, api_name="size_of", queue=False)
    return demo


@pytest.fixture
def server(portal: Portal, serve: Callable[[Any], LiveServer]) -> LiveServer:
    portal.mount(tools_app(), MOUNT, mcp_server=True)
    return serve(portal.app)


def rpc(method: str, request_id: int, params: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params or {}}


INITIALIZE = rpc(
    "initialize",
    1,
    {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "a script", "version": "1"},
    },
)


class SseSession:
    """One open SSE session of the MCP server: where to post, and what its stream says."""

    def __init__(self, lines: Iterator[str], endpoint: str) -> None:
        self._lines = lines
        self.endpoint = endpoint
        self.session_id = parse_qs(urlsplit(endpoint).query)["session_id"][0]

    def next_message(self) -> dict[str, Any]:
        """The next JSON-RPC message the stream carries (pings skipped)."""
        event = ""
        for line in self._lines:
            if line.startswith("event:"):
                event = line.partition(":")[2].strip()
            elif line.startswith("data:") and event == "message":
                message: dict[str, Any] = json.loads(line.partition(":")[2])
                return message
        raise AssertionError("the SSE stream ended")


@contextmanager
def sse_session(client: httpx.Client) -> Iterator[SseSession]:
    with client.stream("GET", SSE, headers=STREAM) as answer:
        assert answer.status_code == 200, answer.read()
        lines = answer.iter_lines()
        event = ""
        for line in lines:
            if line.startswith("event:"):
                event = line.partition(":")[2].strip()
            elif line.startswith("data:") and event == "endpoint":
                yield SseSession(lines, line.partition(":")[2].strip())
                return
        raise AssertionError("the SSE stream named no endpoint")


def signed_in(
    server: LiveServer, signed_in_client: Callable[..., httpx.Client], username: str
) -> httpx.Client:
    return signed_in_client(server, username, PASSWORD)


def test_bob_cannot_post_into_alices_sse_session(
    server: LiveServer, signed_in_client: Callable[..., httpx.Client]
) -> None:
    alice = signed_in(server, signed_in_client, "alice")
    bob = signed_in(server, signed_in_client, "bob")
    with sse_session(alice) as session:
        assert alice.post(session.endpoint, json=INITIALIZE).status_code == 202
        assert session.next_message()["id"] == 1
        alice.post(session.endpoint, json={"jsonrpc": "2.0", "method": "notifications/initialized"})

        call = rpc("tools/call", 99, {"name": "whoami", "arguments": {"greeting": "Hi"}})
        refused = bob.post(session.endpoint, json=call)
        # The answer mcp gives for a session that does not exist: nothing tells bob it does.
        unknown = bob.post(session.endpoint.replace(session.session_id, "0" * 32), json=call)
        assert (refused.status_code, refused.text) == (unknown.status_code, unknown.text)
        assert refused.status_code == 404
        # The messages route takes any path below it, and an id in any case.
        for variant in (
            session.endpoint.replace("/messages/", "/messages/x/"),
            session.endpoint.replace(session.session_id, session.session_id.upper()),
        ):
            assert bob.post(variant, json=call).status_code == 404, variant

        # Alice's stream carries her own answers only: the next one is her call's.
        assert (
            alice.post(session.endpoint, json=rpc("tools/call", 2, call["params"])).status_code
            == 202
        )
        answer = session.next_message()
        assert answer["id"] == 2
        assert answer["result"]["content"][0]["text"] == "Hi, alice"


def test_an_sse_session_of_a_token_is_the_tokens_alone(
    portal: Portal, server: LiveServer, signed_in_client: Callable[..., httpx.Client]
) -> None:
    token, _ = portal.tokens.create("alice", label="assistant")
    other, _ = portal.tokens.create("alice", label="another script")
    with (
        httpx.Client(
            base_url=server.url, headers={"authorization": f"Bearer {token}"}, timeout=30
        ) as script,
        httpx.Client(
            base_url=server.url, headers={"authorization": f"Bearer {other}"}, timeout=30
        ) as second,
        sse_session(script) as session,
    ):
        assert script.post(session.endpoint, json=INITIALIZE).status_code == 202
        assert session.next_message()["id"] == 1
        # Another credential, even of the same user, is another caller.
        assert second.post(session.endpoint, json=rpc("ping", 5)).status_code == 404
        browser = signed_in(server, signed_in_client, "alice")
        assert browser.post(session.endpoint, json=rpc("ping", 6)).status_code == 404
        assert script.post(session.endpoint, json=rpc("ping", 7)).status_code == 202
        assert session.next_message()["id"] == 7


def test_bob_cannot_hand_alices_upload_to_a_tool_under_any_json_type(
    server: LiveServer, signed_in_client: Callable[..., httpx.Client]
) -> None:
    # MCP's transports read a body as JSON when its type starts with application/json (SSE) or
    # names it in a list (streamable HTTP): the upload-ownership check reads it the same way.
    alice = signed_in(server, signed_in_client, "alice")
    bob = signed_in(server, signed_in_client, "bob")
    uploaded = alice.post(
        f"{MOUNT}/gradio_api/upload", files={"files": ("secret.txt", b"alice's", "text/plain")}
    )
    assert uploaded.status_code == 200, uploaded.text
    [path] = uploaded.json()
    arguments = {"document": {"path": path, "meta": {"_type": "gradio.FileData"}}}
    call = rpc("tools/call", 3, {"name": "size_of", "arguments": arguments})
    with sse_session(bob) as session:
        assert bob.post(session.endpoint, json=INITIALIZE).status_code == 202
        for content_type in ("application/json", "application/jsonx", "application/json; x=1"):
            refused = bob.post(
                session.endpoint, content=json.dumps(call), headers={"content-type": content_type}
            )
            assert refused.status_code == 403, content_type
            assert "belongs to someone else" in refused.json()["detail"]
    streamed = {"accept": "application/json, text/event-stream"}
    for content_type in ("application/json", "text/plain, application/json"):
        refused = bob.post(
            f"{MOUNT}/gradio_api/mcp/",
            content=json.dumps(call),
            headers={**streamed, "content-type": content_type},
        )
        assert refused.status_code == 403, content_type
