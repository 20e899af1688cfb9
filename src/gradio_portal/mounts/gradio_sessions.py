"""A Gradio session belongs to the portal session that opened it.

Gradio keys a page's event stream, ``gr.State``, cancel, heartbeat, deep links and media streams
by a ``session_hash`` that the browser makes up (``Math.random``) and that access logs print;
a started event by its ``event_id``. It checks neither against the caller, so a signed-in user
who learns another's hash could read their stream, stop their events or read their state.

**Session hashes are namespaced per portal session.** Before Gradio sees a request, every
session hash it carries (JSON body key, query parameter, path segment; see
:mod:`gradio_portal.compat.routes`) is replaced by ``<hash>.<mac>``, where ``mac`` is an HMAC
of the hash under the portal secret and the caller's session key. The same browser page always
gets the same name, so Gradio works as before; another user sending the same hash gets another
name, an empty namespace: there is nothing to refuse and nothing that tells whether the hash
exists. A name Gradio itself handed out (media stream URLs, ``gr.Request.session_hash``) is
recognised by its valid mac and kept. No store is needed: the binding holds in every process
that shares the secret, and costs one HMAC per request. Upload ids (``upload_id``, which name
an upload's progress stream) are namespaced the same way.

**Event ids are bound to their owner.** When ``queue/join`` or ``call/*`` answers
``{"event_id": ...}``, the id is recorded (in this process, where the event lives; nginx's
affinity keeps a browser on one process) with the caller's session; a route that reaches an
event by id (``call/<api>/<event_id>``, ``stream/<event_id>``) answers 404 to anyone else,
the same answer as for an id that never existed.

**MCP sessions over SSE are bound to their owner.** The session id that Gradio's MCP server
names in an SSE stream's first event is recorded with the caller's session while the stream is
open (like an event id, in this process, where the MCP session lives); a message posted to it
by anyone else is sent on with an id no session has (a UUID4 is never all zeros), so the MCP
server gives its own answer for an unknown session.

**The portal's cookies stay out of the app.** The session and CSRF cookies are removed from the
``Cookie`` header the mounted app receives, so ``gr.Request.headers`` never shows the HttpOnly
session token to app code (``request.request.session`` still works: it is the portal session).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gradio_portal.compat.routes import (
    EVENT_BODY_ROUTES,
    EVENT_ROUTES,
    EVENT_STARTS,
    MCP_MESSAGES,
    MCP_SSE,
    SESSION_BODY_KEY,
    SESSION_PATH_PREFIXES,
    SESSION_QUERY_PARAMS,
    gradio_reads_json,
)
from gradio_portal.mounts.answers import hold_response, send_json
from gradio_portal.mounts.bodies import BodyRefused, is_json_request, read_body, replay
from gradio_portal.mounts.paths import MountPaths
from gradio_portal.sessions.bearer import bearer_token

__all__ = ["EventOwners", "GradioSessionBinding", "SessionNames", "announced_mcp_session"]

_MAC_CHARS = 24
NO_SUCH_EVENT = "No such event: start it again from this page."
# An MCP SSE session's first event: where its messages go (``...?session_id=<hex>``).
_MCP_ENDPOINT = re.compile(
    rb"event: endpoint\r?\ndata: [^\r\n]*[?&]session_id=([0-9a-fA-F]{32})(?=[\r\n&])"
)
_MCP_ENDPOINT_MAX = 4096
_NO_MCP_SESSION = "0" * 32


class SessionNames:
    """The name Gradio gets for a session hash (or upload id) sent by one portal session."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"gradio-session:" + secret.encode()).digest()

    def _mac(self, value: str, owner: str) -> str:
        digest = hmac.new(self._key, f"{owner}\0{value}".encode(), hashlib.sha256)
        return digest.hexdigest()[:_MAC_CHARS]

    def name(self, value: str, owner: str) -> str:
        """``value`` in ``owner``'s namespace (unchanged when it already is one of its names)."""
        base, dot, mac = value.rpartition(".")
        if dot and len(mac) == _MAC_CHARS and hmac.compare_digest(mac, self._mac(base, owner)):
            return value
        return f"{value}.{self._mac(value, owner)}"


class EventOwners:
    """Which portal session started which event (or MCP session), in this process (bounded,
    expiring)."""

    def __init__(self, *, max_events: int = 100_000, ttl: float = 24 * 3600) -> None:
        self._owners: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_events
        self._ttl = ttl

    def record(self, event_id: str, owner: str) -> None:
        with self._lock:
            self._owners[event_id] = (time.monotonic(), owner)
            self._owners.move_to_end(event_id)
            while len(self._owners) > self._max:
                self._owners.popitem(last=False)

    def forget(self, event_id: str) -> None:
        with self._lock:
            self._owners.pop(event_id, None)

    def owned_by(self, event_id: str, owner: str) -> bool:
        entry = self._owners.get(event_id)
        if entry is None or time.monotonic() - entry[0] > self._ttl:
            return False
        return hmac.compare_digest(entry[1], owner)


class GradioSessionBinding:
    """ASGI middleware binding Gradio's session hashes and event ids to portal sessions.

    Runs inside the guard: every request it sees under a mount is signed in.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        mount_paths: MountPaths,
        names: SessionNames,
        events: EventOwners,
        portal_cookies: Iterable[str],
        mcp_sessions: EventOwners | None = None,
    ) -> None:
        self.app = app
        self.mount_paths = mount_paths
        self.names = names
        self.events = events
        self.mcp_sessions = (
            mcp_sessions if mcp_sessions is not None else EventOwners(ttl=float("inf"))
        )
        self.portal_cookies = frozenset(portal_cookies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self.mount_paths.signed_in(scope)
        if found is None:
            await self.app(scope, receive, send)
            return
        relative, active = found
        owner = active.key
        scope = dict(scope)
        scope["headers"] = self._without_portal_credentials(scope["headers"])
        scope["query_string"] = self._named_query(scope.get("query_string", b""), owner)
        method = scope["method"]
        if relative.rstrip("/") == MCP_SSE and method == "GET":
            await self._mcp_stream(scope, receive, send, owner)
            return
        if relative.startswith(MCP_MESSAGES):  # the route takes any path below it
            scope["query_string"] = self._owned_mcp_session(scope["query_string"], owner)

        if method == "GET" and relative.startswith(SESSION_PATH_PREFIXES):
            self._name_path_segment(scope, relative, owner)
        for route_method, pattern in EVENT_ROUTES:
            match = pattern.match(relative)
            if match and method == route_method and not self.events.owned_by(match[1], owner):
                await send_json(send, 404, NO_SUCH_EVENT)
                return

        headers = Headers(scope=scope)
        if method == "POST" and gradio_reads_json(relative, headers.get("content-type")) is False:
            # A multipart body names its session in a form field the portal does not rename.
            await send_json(send, 415, "Send JSON (application/json) here, not multipart.")
            return
        if method in ("POST", "PUT", "PATCH") and is_json_request(headers, relative):
            try:
                body = await read_body(scope, receive, relative)
            except BodyRefused as refused:
                await send_json(send, refused.status, refused.detail)
                return
            if (
                relative.rstrip("/") in EVENT_BODY_ROUTES
                and isinstance(body.value, dict)
                and isinstance(body.value.get("event_id"), str)
                and not self.events.owned_by(body.value["event_id"], owner)
            ):
                await send_json(send, 404, NO_SUCH_EVENT)
                return
            if isinstance(body.value, dict) and isinstance(body.value.get(SESSION_BODY_KEY), str):
                body.value[SESSION_BODY_KEY] = self.names.name(body.value[SESSION_BODY_KEY], owner)
                body.raw = json.dumps(body.value).encode()
                _set_content_length(scope, len(body.raw))
            receive = replay(body.raw, receive)
            if method == "POST" and EVENT_STARTS.match(relative):
                send = self._recording_event(send, owner)
        await self.app(scope, receive, send)

    # -- the parts of a request that carry a session -----------------------------------------

    def _without_portal_credentials(
        self, headers: list[tuple[bytes, bytes]]
    ) -> list[tuple[bytes, bytes]]:
        kept = []
        for name, value in headers:
            if name == b"cookie":
                pairs = [
                    pair
                    for pair in value.split(b";")
                    if pair.split(b"=", 1)[0].strip().decode("latin-1") not in self.portal_cookies
                ]
                if not any(pair.strip() for pair in pairs):
                    continue
                value = b";".join(pairs).strip()
            elif name == b"authorization" and bearer_token(value.decode("latin-1")):
                continue  # the portal's access token, like its cookies, stays with the portal
            kept.append((name, value))
        return kept

    def _named_query(self, query: bytes, owner: str) -> bytes:
        # Keys compared as the app reads them, decoded (``session%5Fhash`` is a session_hash);
        # a query with neither a key's name nor an escape cannot name one.
        if b"%" not in query and not any(p.encode() in query for p in SESSION_QUERY_PARAMS):
            return query
        pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
        if not any(key in SESSION_QUERY_PARAMS for key, _ in pairs):
            return query
        named = [
            (key, self.names.name(value, owner) if key in SESSION_QUERY_PARAMS else value)
            for key, value in pairs
        ]
        return urlencode(named).encode("latin-1")

    def _name_path_segment(self, scope: dict[str, Any], relative: str, owner: str) -> None:
        prefix = next(p for p in SESSION_PATH_PREFIXES if relative.startswith(p))
        rest = relative[len(prefix) :]
        value, slash, tail = rest.partition("/")
        if not value:
            return
        mount = scope["path"][: len(scope["path"]) - len(relative)]
        path = f"{mount}{prefix}{self.names.name(value, owner)}{slash}{tail}"
        scope["path"] = path
        scope["raw_path"] = path.encode()

    def _owned_mcp_session(self, query: bytes, owner: str) -> bytes:
        """``query`` as sent when it names one of ``owner``'s MCP sessions; naming a session
        nobody has otherwise (the MCP server answers for it as for any unknown id)."""
        pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
        named = dict(pairs).get("session_id", "").lower()
        if not self.mcp_sessions.owned_by(named, owner):
            named = _NO_MCP_SESSION
        kept = [(key, value) for key, value in pairs if key != "session_id"]
        return urlencode([*kept, ("session_id", named)]).encode("latin-1")

    async def _mcp_stream(self, scope: Scope, receive: Receive, send: Send, owner: str) -> None:
        """An MCP SSE stream: the session it announces is ``owner``'s (recorded before the
        caller reads where to post to it) for as long as the stream stays open."""
        seen = b""
        session_id: str | None = None

        async def sender(message: Message) -> None:
            nonlocal seen, session_id
            if session_id is None and message["type"] == "http.response.body":
                seen = (seen + message.get("body", b""))[-_MCP_ENDPOINT_MAX:]
                session_id = announced_mcp_session(seen)
                if session_id is not None:
                    self.mcp_sessions.record(session_id, owner)
            await send(message)

        try:
            await self.app(scope, receive, sender)
        finally:
            if session_id is not None:
                self.mcp_sessions.forget(session_id)

    def _recording_event(self, send: Send, owner: str) -> Send:
        """Holds an event's start answer until its id is recorded as the caller's."""

        async def finish(start: Message, body: bytes) -> None:
            if start["status"] == 200:
                try:
                    event_id = json.loads(body).get("event_id")
                except (ValueError, AttributeError):
                    event_id = None
                if isinstance(event_id, str):
                    self.events.record(event_id, owner)
            await send(start)
            await send({"type": "http.response.body", "body": body})

        return hold_response(send, finish)


def announced_mcp_session(stream: bytes) -> str | None:
    """The session id an MCP SSE stream's start announces (its ``endpoint`` event), once the
    whole id has arrived; lower-case hex."""
    match = _MCP_ENDPOINT.search(stream)
    return match[1].decode("ascii").lower() if match else None


def _set_content_length(scope: dict[str, Any], length: int) -> None:
    headers = [(n, v) for n, v in scope["headers"] if n != b"content-length"]
    headers.append((b"content-length", str(length).encode()))
    scope["headers"] = headers
