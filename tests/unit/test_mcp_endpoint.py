"""The MCP session an SSE stream announces, read from its first bytes however they are split."""

from __future__ import annotations

from gradio_portal.mounts.gradio_sessions import announced_mcp_session

SESSION = "78d9c0ffee5e4a1b9c3d2e1f00aa55bb"
START = (
    b"event: endpoint\r\ndata: /tools/gradio_api/mcp/messages/?session_id="
    + SESSION.upper().encode()
    + b"\r\n\r\n"
)


def test_the_whole_id_is_read_once_it_has_arrived() -> None:
    assert announced_mcp_session(START) == SESSION


def test_a_stream_split_inside_the_id_announces_nothing_until_the_rest_arrives() -> None:
    for cut in range(1, len(START)):
        first = announced_mcp_session(START[:cut])
        assert first is None or first == SESSION, cut
        assert announced_mcp_session(START[:cut] + START[cut:]) == SESSION
    cut_in_id = START.index(b"session_id=") + len("session_id=") + 4
    assert announced_mcp_session(START[:cut_in_id]) is None


def test_only_an_endpoint_event_announces_a_session() -> None:
    assert announced_mcp_session(START.replace(b"event: endpoint", b"event: message")) is None
    assert announced_mcp_session(b"data: ?session_id=" + SESSION.encode() + b"\r\n") is None
