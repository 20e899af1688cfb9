"""An asyncio client for Gradio's browser protocol (sse_v3), light enough to play 300 users.

It speaks what the browser speaks: ``run/predict`` for events with ``queue=False``, and
``queue/join`` + the ``queue/data`` event stream for queued ones. The stream is split on blank
lines by hand (no per-line decoding layers) because one core plays every user.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

__all__ = ["AsyncGradio", "StreamResult", "async_login", "new_session_hash"]

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def new_session_hash() -> str:
    return secrets.token_hex(8)


async def async_login(client: httpx.AsyncClient, username: str, password: str) -> None:
    """Sign in through the portal's login form (CSRF included); raise unless it worked."""
    page = await client.get("/login")
    match = _CSRF.search(page.text)
    if match is None:
        raise RuntimeError(f"no CSRF token on the login page ({page.status_code})")
    response = await client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": match.group(1)},
    )
    if response.status_code != 303:
        raise RuntimeError(f"login of {username} answered {response.status_code}")


async def async_logout(client: httpx.AsyncClient) -> None:
    page = await client.get("/logout")
    match = _CSRF.search(page.text)
    if match is None:
        raise RuntimeError(f"no CSRF token on the logout page ({page.status_code})")
    response = await client.post("/logout", data={"csrf_token": match.group(1)})
    if response.status_code != 303:
        raise RuntimeError(f"logout answered {response.status_code}")


@dataclass
class StreamResult:
    """Timestamps (``time.perf_counter``) of one queued event as the client saw it."""

    started: float
    first_output: float | None = None
    completed: float | None = None
    success: bool = False
    error: str | None = None
    messages: int = 0
    last: dict[str, Any] = field(default_factory=dict)

    @property
    def ttft(self) -> float | None:
        return None if self.first_output is None else self.first_output - self.started

    @property
    def duration(self) -> float | None:
        return None if self.completed is None else self.completed - self.started


class AsyncGradio:
    """Events of the Blocks mounted at ``mount``, called through ``client`` (its cookies)."""

    def __init__(self, client: httpx.AsyncClient, mount: str, *, page: str | None = None) -> None:
        self.client = client
        self.mount = mount.rstrip("/")
        self.page = page or self.mount + "/"
        self.headers = {"x-gradio-portal-page": self.page}

    async def config(self) -> dict[str, Any]:
        response = await self.client.get(self.mount + "/config")
        response.raise_for_status()
        return dict(response.json())

    async def run(self, fn_index: int, data: list[Any], session_hash: str) -> Any:
        """An event with ``queue=False``: one POST, the outputs in the answer."""
        response = await self.client.post(
            self.mount + "/gradio_api/run/predict",
            json={
                "data": data,
                "fn_index": fn_index,
                "session_hash": session_hash,
                "event_data": None,
                "trigger_id": None,
            },
            headers=self.headers,
        )
        response.raise_for_status()
        return response.json()

    async def stream(
        self,
        fn_index: int,
        data: list[Any],
        session_hash: str,
        *,
        started: float | None = None,
        timeout: float = 60,
        is_output: Callable[[bytes], bool] | None = None,
    ) -> StreamResult:
        """A queued event: join, then read its messages until ``process_completed``.

        ``first_output`` is the first ``process_generating`` message whose raw JSON
        ``is_output`` accepts (any, by default).
        """
        result = StreamResult(started=started if started is not None else time.perf_counter())
        query = self.page.partition("?")[2]
        try:
            joined = await self.client.post(
                self.mount + "/gradio_api/queue/join" + (f"?{query}" if query else ""),
                json={
                    "data": data,
                    "fn_index": fn_index,
                    "session_hash": session_hash,
                    "event_data": None,
                    "trigger_id": None,
                },
                headers=self.headers,
            )
            if joined.status_code != 200:
                result.error = f"join {joined.status_code}"
                return result
            async with self.client.stream(
                "GET",
                self.mount + "/gradio_api/queue/data",
                params={"session_hash": session_hash},
                headers=self.headers,
                timeout=timeout,
            ) as response:
                if response.status_code != 200:
                    result.error = f"data {response.status_code}"
                    return result
                buffer = b""
                async for chunk in response.aiter_bytes():
                    buffer += chunk
                    *events, buffer = buffer.split(b"\n\n")
                    for event in events:
                        if self._handle(event, result, is_output):
                            return result
            result.error = result.error or "stream ended before process_completed"
        except httpx.HTTPError as exc:
            result.error = f"{type(exc).__name__}: {exc}"
        return result

    @staticmethod
    def _handle(
        event: bytes,
        result: StreamResult,
        is_output: Callable[[bytes], bool] | None,
    ) -> bool:
        """Record one SSE event; True once the event completed."""
        for line in event.split(b"\n"):
            if not line.startswith(b"data:"):
                continue
            message = orjson.loads(line[5:])
            result.messages += 1
            kind = message.get("msg")
            if kind == "process_generating":
                if result.first_output is None and (is_output is None or is_output(line)):
                    result.first_output = time.perf_counter()
            elif kind == "process_completed":
                result.completed = time.perf_counter()
                result.success = bool(message.get("success"))
                result.last = message
                if not result.success:
                    output = message.get("output") or {}
                    result.error = str(output.get("error") or "failed")
                return True
            elif kind == "unexpected_error":
                result.error = str(message.get("message") or "unexpected_error")
                result.completed = time.perf_counter()
                return True
        return False


def dependency_ids(config: dict[str, Any]) -> dict[str, int]:
    """``api_name`` -> event id, from a Blocks' /config."""
    return {
        str(dep.get("api_name")): int(dep["id"])
        for dep in config["dependencies"]
        if dep.get("api_name")
    }
