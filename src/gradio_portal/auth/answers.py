"""A JSON error answered straight from ASGI middleware (no framework around it there)."""

from __future__ import annotations

import json

from starlette.types import Send

__all__ = ["send_json"]


async def send_json(send: Send, status: int, detail: str) -> None:
    """Answer ``{"detail": detail}`` with ``status``; never cached."""
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
