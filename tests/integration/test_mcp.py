"""Gradio's MCP server behind the portal, driven by the ``mcp`` package's own client.

The endpoint under ``<mount>/gradio_api/mcp`` answers no anonymous request (Gradio alone leaves
it open even with ``auth=``); a signed-in caller lists and calls the tools over both MCP
transports, queued and unqueued tools get a ``Context`` naming the caller, two users calling
the same server never see each other's identity, and a session that ended stops the calls.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import gradio as gr
import httpx
import pytest
from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import TextContent
from tests.conftest import PASSWORD

from gradio_portal import Context, Portal
from gradio_portal.testing import LiveServer, login, logout

MOUNT = "/tools"
ENDPOINT = f"{MOUNT}/gradio_api/mcp/"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "a script", "version": "1"},
    },
}
ACCEPT = {"accept": "application/json, text/event-stream"}


def whoami(greeting: str, ctx: Context) -> str:
    """Greet the caller by the name they signed in with.

    Args:
        greeting: the word to greet with
    """
    return f"{greeting}, {ctx.user.username}"


def count_to(n: float, ctx: Context) -> Iterator[str]:
    """Count up to n, one step at a time, for the caller.

    Args:
        n: where to stop
    """
    for i in range(1, int(n) + 1):
        yield f"{ctx.user.username}: {i}"


def shout(text: str, ctx: Context) -> str:
    """Upper-case the text, unqueued.

    Args:
        text: what to shout
    """
    return f"{text.upper()} ({ctx.user.username})"


def tools_app() -> gr.Blocks:
    with gr.Blocks() as demo:
        text = gr.Textbox()
        number = gr.Number()
        out = gr.Textbox()
        gr.Button("who").click(whoami, text, out, api_name="whoami")
        gr.Button("count").click(count_to, number, out, api_name="count_to")
        gr.Button("shout").click(shout, text, out, api_name="shout", queue=False)
    return demo


@pytest.fixture
def server(portal: Portal, serve: Callable[[Any], LiveServer]) -> LiveServer:
    portal.mount(tools_app(), MOUNT, mcp_server=True)
    return serve(portal.app)


def signed_in(server: LiveServer, username: str) -> httpx.Client:
    client = httpx.Client(base_url=server.url, timeout=30)
    assert login(client, username, PASSWORD).status_code == 303
    return client


@asynccontextmanager
async def mcp_session(
    server: LiveServer, cookies: httpx.Cookies, *, transport: str = "http"
) -> AsyncIterator[ClientSession]:
    if transport == "sse":
        header = "; ".join(f"{name}={value}" for name, value in cookies.items())
        async with (
            sse_client(server.url + ENDPOINT + "sse", headers={"cookie": header}) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield session
        return
    async with (
        httpx.AsyncClient(cookies=cookies, timeout=30) as http,
        streamable_http_client(server.url + ENDPOINT, http_client=http) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


async def call(session: ClientSession, tool: str, arguments: dict[str, Any]) -> str:
    with anyio.fail_after(60):
        result = await session.call_tool(tool, arguments)
    assert not result.isError, result.content
    (content,) = result.content
    assert isinstance(content, TextContent)
    return content.text


def test_the_mcp_endpoint_answers_no_anonymous_request(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        answers = {
            "streamable HTTP": client.post(ENDPOINT, json=INITIALIZE, headers=ACCEPT),
            "SSE stream": client.get(ENDPOINT + "sse", headers={"accept": "text/event-stream"}),
            "SSE messages": client.post(ENDPOINT + "messages/?session_id=0", json={}),
            "schema": client.get(ENDPOINT + "schema"),
        }
    for transport, answer in answers.items():
        assert answer.status_code == 401, transport
        assert "sign in at /login" in answer.json()["detail"], transport


@pytest.mark.parametrize("transport", ["http", "sse"])
def test_a_signed_in_caller_lists_and_calls_the_tools_as_themselves(
    server: LiveServer, transport: str
) -> None:
    alice = signed_in(server, "alice")

    async def session() -> None:
        async with mcp_session(server, alice.cookies, transport=transport) as mcp:
            tools = {tool.name: tool for tool in (await mcp.list_tools()).tools}
            assert set(tools) == {"whoami", "count_to", "shout"}
            # A Context parameter is filled by the portal: it is no input of the tool.
            assert set(tools["whoami"].inputSchema["properties"]) == {"greeting"}
            assert await call(mcp, "whoami", {"greeting": "Hello"}) == "Hello, alice"
            assert await call(mcp, "count_to", {"n": 3}) == "alice: 3"
            assert await call(mcp, "shout", {"text": "hi"}) == "HI (alice)"

    anyio.run(session)


def test_two_callers_of_one_server_never_see_each_other(server: LiveServer) -> None:
    # Gradio runs a queued tool through a client of its own; behind the portal each caller has
    # one, signed in as them. Interleaved calls show no caller borrows another's.
    alice, bob = signed_in(server, "alice"), signed_in(server, "bob")

    async def both() -> None:
        async with (
            mcp_session(server, alice.cookies) as as_alice,
            mcp_session(server, bob.cookies) as as_bob,
        ):
            for _ in range(2):
                assert await call(as_alice, "whoami", {"greeting": "Hi"}) == "Hi, alice"
                assert await call(as_bob, "whoami", {"greeting": "Hi"}) == "Hi, bob"
            results: dict[str, str] = {}

            async def one(name: str, session: ClientSession) -> None:
                results[name] = await call(session, "count_to", {"n": 5})

            async with anyio.create_task_group() as group:
                group.start_soon(one, "alice", as_alice)
                group.start_soon(one, "bob", as_bob)
            assert results == {"alice": "alice: 5", "bob": "bob: 5"}

    anyio.run(both)


def test_calls_stop_when_the_session_ends(server: LiveServer) -> None:
    alice = signed_in(server, "alice")
    cookies = httpx.Cookies(alice.cookies)

    async def before() -> None:
        async with mcp_session(server, cookies) as mcp:
            assert await call(mcp, "whoami", {"greeting": "Hi"}) == "Hi, alice"

    anyio.run(before)
    with httpx.Client(base_url=server.url, cookies=cookies, timeout=30) as replay:
        assert replay.post(ENDPOINT, json=INITIALIZE, headers=ACCEPT).status_code == 200
        assert logout(alice).status_code == 303
        refused = replay.post(ENDPOINT, json=INITIALIZE, headers=ACCEPT)
    assert refused.status_code == 401


def test_an_mcp_client_signs_in_with_an_access_token(portal: Portal, server: LiveServer) -> None:
    token, _ = portal.tokens.create("bob", label="assistant")

    async def session() -> None:
        async with (
            httpx.AsyncClient(headers={"authorization": f"Bearer {token}"}, timeout=30) as http,
            streamable_http_client(server.url + ENDPOINT, http_client=http) as (read, write, _),
            ClientSession(read, write) as mcp,
        ):
            await mcp.initialize()
            assert await call(mcp, "whoami", {"greeting": "Hello"}) == "Hello, bob"
            assert await call(mcp, "count_to", {"n": 2}) == "bob: 2"
            assert await call(mcp, "shout", {"text": "hi"}) == "HI (bob)"

    anyio.run(session)
    with httpx.Client(base_url=server.url, timeout=30) as script:
        junk = script.post(
            ENDPOINT, json=INITIALIZE, headers={**ACCEPT, "authorization": "Bearer gpp_x"}
        )
    assert junk.status_code == 401 and "tokens create" in junk.json()["detail"]
