"""Drive the portal like a browser: the login form, and Gradio's raw event protocol."""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["EventResult", "GradioEvents", "login"]

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def login(
    client: httpx.Client,
    username: str,
    password: str,
    *,
    next: str = "",
    login_path: str = "/login",
) -> httpx.Response:
    """Sign ``client`` in through the login form; return the final POST response.

    A successful sign-in answers ``303`` with the session cookie set on ``client``.
    """
    page = client.get(login_path)
    match = _CSRF.search(page.text)
    if match is None:
        raise AssertionError(f"no CSRF token on the login page ({page.status_code})")
    return client.post(
        login_path,
        data={
            "username": username,
            "password": password,
            "csrf_token": match.group(1),
            "next": next,
        },
    )


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
        for dependency in self.config["dependencies"]:
            if dependency.get("api_name") == api_name:
                return int(dependency["id"])
        names = [d.get("api_name") for d in self.config["dependencies"]]
        raise KeyError(f"no event named {api_name!r}; the Blocks has {names}")

    def join(
        self, fn: int | str, data: list[Any], *, session_hash: str | None = None
    ) -> tuple[httpx.Response, str]:
        """Send ``queue/join`` only; return the response and the session hash used."""
        session_hash = session_hash or secrets.token_hex(8)
        fn_index = fn if isinstance(fn, int) else self.fn_index(fn)
        # The browser's queue/join carries the page's query string.
        query = self.page.partition("?")[2]
        response = self.client.post(
            self.mount + "/gradio_api/queue/join" + (f"?{query}" if query else ""),
            json={
                "data": data,
                "fn_index": fn_index,
                "session_hash": session_hash,
                "event_data": None,
                "trigger_id": None,
            },
            headers={"x-gradio-portal-page": self.page},
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
