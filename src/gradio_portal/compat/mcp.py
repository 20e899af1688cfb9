"""Gradio's MCP server behind the portal: its tools run as the user who calls them.

A Blocks mounted with ``mcp_server=True`` serves the Model Context Protocol under
``<mount>/gradio_api/mcp``; the portal's guard already answers anonymous requests there like
anywhere under the mount. What needs a change is how Gradio runs a queued tool: it calls its
own app back over HTTP through one ``gradio_client.Client`` per server, made by the first
caller and sent with no credentials at all. Behind the portal that client is refused (the
config it loads first answers 401), and one client shared by every caller would mix their
Gradio sessions.

:func:`bind_loopback_to_caller` gives each caller a client of their own, sending the
caller's credentials (the portal session cookie, or the ``Authorization`` header) on every
request it makes: the config, the event's join, its stream and the heartbeat. The portal then
sees the tool's event as the caller's own, so its ``Context`` names them and its Gradio session
is bound to theirs. Tools that Gradio runs without the queue get the caller's request directly.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import gradio as gr
from starlette.requests import Request

from gradio_portal._errors import ConfigurationError
from gradio_portal.compat.internals import private

__all__ = ["LoopbackClients", "bind_loopback_to_caller"]

Credentials = tuple[tuple[str, str], ...]
"""The headers that say who the caller is, as sorted (name, value) pairs."""


class LoopbackClients:
    """The loopback ``gradio_client.Client`` of each caller of one MCP server.

    At most ``size`` clients are kept, the least recently used closed first; a client is
    never shared between two credentials.
    """

    def __init__(
        self,
        server: Any,
        credentials: Callable[[Request], Credentials],
        *,
        size: int = 32,
    ) -> None:
        self._server = server
        self._credentials = credentials
        self._size = size
        self._clients: OrderedDict[Credentials, Any] = OrderedDict()
        self._lock = threading.Lock()

    def for_current_call(self) -> Any:
        """The client of the caller whose MCP request is being handled (Gradio calls this in
        a worker thread that carries the request's context)."""
        request = self._server.mcp_server.request_context.request
        if request is None:  # pragma: no cover - Gradio always sets it for a tool call
            raise RuntimeError("an MCP tool call without its HTTP request")
        key = self._credentials(request)
        with self._lock:
            client = self._clients.get(key)
            if client is not None:
                self._clients.move_to_end(key)
                return client
        client = self._new_client(request, dict(key))
        with self._lock:
            kept = self._clients.setdefault(key, client)
            self._clients.move_to_end(key)
            evicted = []
            while len(self._clients) > self._size:
                evicted.append(self._clients.popitem(last=False)[1])
        for old in [*evicted, *([client] if kept is not client else [])]:
            old.close()
        return kept

    def _new_client(self, request: Request, headers: dict[str, str]) -> Any:
        from gradio_client import Client

        server = self._server
        root_url = server.local_url or private("gradio.route_utils", "get_root_url")(
            request=request,
            route_path=server.get_route_path(request),
            root_path=server.root_path,
        )
        return Client(
            root_url,
            download_files=False,
            verbose=False,
            analytics_enabled=False,
            ssl_verify=False,
            _skip_components=False,
            headers={"x-gradio-user": "mcp", **headers},
        )


def bind_loopback_to_caller(
    blocks: gr.Blocks, credentials: Callable[[Request], Credentials]
) -> LoopbackClients | None:
    """Make the MCP server of ``blocks`` (if it has one) call back as each caller.

    ``credentials`` picks, from the caller's request, the headers that sign the loopback in.
    """
    server = getattr(blocks, "mcp_server_obj", None)
    if server is None:
        return None
    if not hasattr(server, "_get_or_create_client"):
        raise ConfigurationError(
            "this Gradio's MCP server no longer makes its loopback client where gradio-portal "
            "expects it: install a Gradio release that gradio-portal supports"
        )
    clients = LoopbackClients(server, credentials)
    server._get_or_create_client = clients.for_current_call
    return clients
