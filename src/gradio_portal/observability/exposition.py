"""``/metrics`` (Prometheus text format, for the few allowed to read it) and ``/livez``.

``/metrics`` answers a client whose address is in ``settings.metrics_allow`` (CIDR blocks,
checked against the address uvicorn reports, that is after the proxy headers of trusted
proxies), or one that sends ``Authorization: Bearer <settings.metrics_token>``; anyone else
gets 403 with the settings that would open it. ``/livez`` answers 200 while the process
serves, touching nothing else: the liveness probe (restart when it fails), where
``/healthz`` is the readiness probe (database and session store reachable).
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Sequence

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import JSONResponse, Response

from gradio_portal._errors import ConfigurationError
from gradio_portal.observability.metrics import PortalMetrics
from gradio_portal.settings import PortalSettings

__all__ = ["LIVEZ_PATH", "METRICS_PATH", "MetricsAccess", "build_observability_router"]

METRICS_PATH = "/metrics"
LIVEZ_PATH = "/livez"

REFUSED = (
    "Metrics are open to client addresses listed in GRADIO_PORTAL_METRICS_ALLOW (CIDR blocks) "
    "and to requests with 'Authorization: Bearer <token>' where the token is "
    "GRADIO_PORTAL_METRICS_TOKEN. Add this scraper's address to the first, or set the second."
)

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class MetricsAccess:
    """Who may read ``/metrics``: addresses in ``allow``, or the bearer of ``token``."""

    def __init__(self, allow: Sequence[str], token: str | None) -> None:
        networks: list[_Network] = []
        for block in allow:
            try:
                networks.append(ipaddress.ip_network(block.strip(), strict=False))
            except ValueError:
                raise ConfigurationError(
                    f"GRADIO_PORTAL_METRICS_ALLOW has {block!r}, which is not an address or a "
                    "CIDR block: write e.g. '10.0.0.0/8' or '127.0.0.1/32' (a JSON list for "
                    'several: \'["10.0.0.0/8", "::1/128"]\')'
                ) from None
        self.networks = tuple(networks)
        self._token = token.encode() if token else None

    @classmethod
    def from_settings(cls, settings: PortalSettings) -> MetricsAccess:
        token = settings.metrics_token
        return cls(settings.metrics_allow, token.get_secret_value() if token else None)

    def permits(self, client: str | None, authorization: str | None) -> bool:
        if self._token is not None and authorization is not None:
            scheme, _, given = authorization.partition(" ")
            if scheme.lower() == "bearer" and hmac.compare_digest(
                given.strip().encode(), self._token
            ):
                return True
        return client is not None and self.allows_address(client)

    def allows_address(self, client: str) -> bool:
        try:
            address = ipaddress.ip_address(client)
        except ValueError:  # not an IP address (a Unix socket, a test client's name)
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.networks)


def build_observability_router(metrics: PortalMetrics, access: MetricsAccess) -> APIRouter:
    """The ``/metrics`` and ``/livez`` routes (not in the API document)."""
    router = APIRouter(include_in_schema=False)

    @router.get(METRICS_PATH)
    async def read_metrics(request: Request) -> Response:
        client = request.client.host if request.client is not None else None
        if not access.permits(client, request.headers.get("authorization")):
            return JSONResponse({"detail": REFUSED}, status_code=403)
        return Response(
            generate_latest(metrics.registry),
            media_type=CONTENT_TYPE_LATEST,
            headers={"cache-control": "no-store"},
        )

    @router.get(LIVEZ_PATH)
    async def live() -> Response:
        return JSONResponse({"status": "ok"}, headers={"cache-control": "no-store"})

    return router
