"""An asyncio client for Gradio's browser protocol (sse_v3), light enough to play 300 users.

It speaks what the browser speaks: ``run/predict`` for events with ``queue=False``, and
``queue/join`` + the ``queue/data`` event stream for queued ones. The stream is split on blank
lines by hand (no per-line decoding layers) and a result keeps timestamps and counts, not the
messages, because one core may play every user. For assertions on what an event sent, use the
sync :class:`gradio_portal.testing.GradioEvents`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson  # a dependency of Gradio: several times faster than json for these messages

from gradio_portal.testing._protocol import PAGE_HEADER, event_body, join_path

__all__ = ["AsyncGradioEvents", "StreamResult"]


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
        """Seconds from the start to the first output (time to first token, for a chat)."""
        return None if self.first_output is None else self.first_output - self.started

    @property
    def duration(self) -> float | None:
        return None if self.completed is None else self.completed - self.started


class AsyncGradioEvents:
    """Events of the Blocks mounted at ``mount``, called through ``client`` (its cookies).

    Example::

        async with httpx.AsyncClient(base_url=server.url) as client:
            await async_login(client, "ada", password)
            events = AsyncGradioEvents(client, "/app")
            ids = event_ids(await events.config())
            result = await events.stream(ids["greet"], ["Ada"], new_session_hash())
            assert result.success, result.error
    """

    def __init__(self, client: httpx.AsyncClient, mount: str, *, page: str | None = None) -> None:
        self.client = client
        self.mount = mount.rstrip("/")
        self.page = page or self.mount + "/"
        self.headers = {PAGE_HEADER: self.page}

    async def config(self) -> dict[str, Any]:
        response = await self.client.get(self.mount + "/config")
        response.raise_for_status()
        return dict(response.json())

    async def run(self, fn_index: int, data: list[Any], session_hash: str) -> Any:
        """An event with ``queue=False``: one POST, the outputs in the answer."""
        response = await self.client.post(
            self.mount + "/gradio_api/run/predict",
            json=event_body(fn_index, data, session_hash),
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

        Never raises for HTTP trouble: a failure is in ``error``. ``first_output`` is the
        first ``process_generating`` message whose raw JSON ``is_output`` accepts (any, by
        default).
        """
        result = StreamResult(started=started if started is not None else time.perf_counter())
        try:
            joined = await self.client.post(
                join_path(self.mount, self.page),
                json=event_body(fn_index, data, session_hash),
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
