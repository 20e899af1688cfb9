"""A real uvicorn server in a background thread, on a kernel-picked loopback port."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

__all__ = ["LiveServer"]


class LiveServer:
    """Serve ``app`` on ``127.0.0.1:<free port>`` for the duration of a ``with`` block.

    Example::

        with LiveServer(portal.app) as server:
            httpx.get(server.url + "/healthz")
    """

    def __init__(self, app: Any, *, host: str = "127.0.0.1", **config: Any) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, 0))
        self.host = host
        self.port: int = self._socket.getsockname()[1]
        config.setdefault("log_level", "warning")
        config.setdefault("timeout_graceful_shutdown", 2)
        # Longer than any client's idle keep-alive (httpx: 5 s, uvicorn's own default too): a
        # client never reuses a connection the server is closing at that very moment, which
        # fails the request with a ReadError (seen under a 45-user test on a busy machine).
        config.setdefault("timeout_keep_alive", 30)
        self._server = uvicorn.Server(uvicorn.Config(app, **config))
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _serve(self) -> None:
        # uvicorn exits when the app's startup fails: start() reports it, after uvicorn's log.
        with contextlib.suppress(SystemExit):
            self._server.run(sockets=[self._socket])

    def start(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the test server did not start; see the log above")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
