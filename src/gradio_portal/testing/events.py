"""Call a mounted Blocks' events as the browser does: ``queue/join``, then the event stream.

:class:`GradioEvents` keeps every message of an event, for assertions; its async sibling for
load generators is :class:`gradio_portal.testing.async_events.AsyncGradioEvents`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from gradio_portal.testing._protocol import (
    PAGE_HEADER,
    event_body,
    fn_index,
    join_path,
    new_session_hash,
)

__all__ = ["EventResult", "GradioEvents"]


@dataclass
class EventResult:
    """The messages of one event, as the browser receives them."""

    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def completed(self) -> dict[str, Any]:
        for message in self.messages:
            if message.get("msg") == "process_completed":
                return message
        raise AssertionError(f"the event did not complete: {self.messages}")

    @property
    def success(self) -> bool:
        return bool(self.completed.get("success"))

    @property
    def output(self) -> list[Any]:
        """The output values of a successful event."""
        completed = self.completed
        if not completed.get("success"):
            raise AssertionError(f"the event failed: {completed.get('output')}")
        return list(completed["output"]["data"])

    @property
    def error(self) -> str | None:
        output = self.completed.get("output") or {}
        return output.get("error")

    @property
    def generating(self) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("msg") == "process_generating"]


class GradioEvents:
    """Call events of a Blocks mounted at ``mount`` over ``queue/join`` + ``queue/data``.

    ``client`` carries the cookies (sign it in first); ``page`` is the address the calls say
    they come from (the mount's page by default), as the portal's browser script does.

    Example::

        events = GradioEvents(client, "/app")
        result = events.call("greet", ["Ada"])
        assert result.output == ["Hello Ada"]
    """

    def __init__(self, client: httpx.Client, mount: str, *, page: str | None = None) -> None:
        self.client = client
        self.mount = mount.rstrip("/")
        self.page = page or self.mount + "/"
        self._config: dict[str, Any] | None = None

    @property
    def config(self) -> dict[str, Any]:
        if self._config is None:
            response = self.client.get(self.mount + "/config")
            response.raise_for_status()
            self._config = response.json()
        return self._config

    def fn_index(self, api_name: str) -> int:
        """The id of the event registered with ``api_name`` (or a function of that name)."""
        return fn_index(self.config, api_name)

    def join(
        self, fn: int | str, data: list[Any], *, session_hash: str | None = None
    ) -> tuple[httpx.Response, str]:
        """Send ``queue/join`` only; return the response and the session hash used."""
        session_hash = session_hash or new_session_hash()
        index = fn if isinstance(fn, int) else self.fn_index(fn)
        response = self.client.post(
            join_path(self.mount, self.page),
            json=event_body(index, data, session_hash),
            headers={PAGE_HEADER: self.page},
        )
        return response, session_hash

    def call(
        self,
        fn: int | str,
        data: list[Any],
        *,
        timeout: float = 30,
        session_hash: str | None = None,
    ) -> EventResult:
        """Run one event to completion and return its messages.

        Pass the same ``session_hash`` to chain events of one page (its ``gr.State`` values).
        """
        response, session_hash = self.join(fn, data, session_hash=session_hash)
        response.raise_for_status()
        result = EventResult()
        with self.client.stream(
            "GET",
            self.mount + "/gradio_api/queue/data",
            params={"session_hash": session_hash},
            timeout=timeout,
        ) as stream:
            stream.raise_for_status()
            for line in stream.iter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                result.messages.append(message)
                if message.get("msg") == "process_completed":
                    break
        return result
