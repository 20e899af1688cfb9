"""What operators see of a running portal: its log, request ids and metrics.

- ``logs.py``: the log ``serve`` writes (text or JSON lines), with the request id of each line;
- ``request_id.py``: the id of the request being served, and which incoming ids are kept;
- ``security.py``: security events (sign-ins, sign-outs, revocations, administration);
- ``metrics.py``: :class:`PortalMetrics`, one Prometheus registry per portal;
- ``routes.py``: route templates, the bounded ``route`` label of request metrics;
- ``middleware.py``: :class:`RequestObserver`, the request id and metrics of each request;
- ``exposition.py``: ``/metrics`` (for allowed addresses or a token) and ``/livez``.

docs/operations.md describes them for whoever runs the portal.
"""

from __future__ import annotations

from gradio_portal.observability.exposition import MetricsAccess, build_observability_router
from gradio_portal.observability.logs import configure_logging
from gradio_portal.observability.metrics import AppEvents, PortalMetrics
from gradio_portal.observability.middleware import RequestObserver
from gradio_portal.observability.request_id import REQUEST_ID
from gradio_portal.observability.routes import RouteTemplates
from gradio_portal.observability.security import SECURITY_LOGGER, client_address, security_event

__all__ = [
    "REQUEST_ID",
    "SECURITY_LOGGER",
    "AppEvents",
    "MetricsAccess",
    "PortalMetrics",
    "RequestObserver",
    "RouteTemplates",
    "build_observability_router",
    "client_address",
    "configure_logging",
    "security_event",
]
