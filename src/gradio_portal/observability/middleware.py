"""RequestObserver: the request id of every HTTP request, and its metrics.

The outermost of the portal's middleware. For each HTTP request it

- takes the id from ``X-Request-ID`` when that is acceptable (:mod:`.request_id`), or makes
  one and puts it in the request's headers, so the apps below (and the events Gradio starts
  from the request) see the id the log lines carry;
- keeps the id in :data:`~gradio_portal.observability.request_id.REQUEST_ID` while the
  request runs, and sends it back in the response's ``X-Request-ID``;
- counts the request by method, route template (:class:`RouteTemplates`) and status, with
  its duration.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gradio_portal.observability.metrics import PortalMetrics
from gradio_portal.observability.request_id import (
    HEADER,
    REQUEST_ID,
    accepted_request_id,
    new_request_id,
)
from gradio_portal.observability.routes import RouteTemplates

__all__ = ["RequestObserver"]


class RequestObserver:
    """ASGI middleware: request ids and request metrics (see the module's docstring)."""

    def __init__(self, app: ASGIApp, *, metrics: PortalMetrics, routes: RouteTemplates) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        headers = scope["headers"]
        for name, value in headers:
            if name == HEADER:
                request_id = accepted_request_id(value)
                break
        if request_id is None:
            request_id = new_request_id()
            scope["headers"] = [
                *(h for h in headers if h[0] != HEADER),
                (HEADER, request_id.encode("ascii")),
            ]
        answer_header = (HEADER, request_id.encode("ascii"))
        method = self.metrics.method_label(scope["method"])
        path, root_path = scope["path"], scope.get("root_path", "")
        status = 500

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), answer_header]
            await send(message)

        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        try:
            await self.app(scope, receive, observed_send)
        except BaseException:
            # The id stays set: the server logs this exception next, in this same task.
            raise
        else:
            REQUEST_ID.reset(token)
        finally:
            self.metrics.request(
                method,
                self.routes.template(method, path, root_path),
                status,
                time.perf_counter() - started,
            )
