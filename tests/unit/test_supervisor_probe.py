"""The supervisor's readiness probe says "not ready" for anything that is not the portal."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from gradio_portal.supervisor import Supervisor


@pytest.fixture
def echo_port() -> Iterator[int]:
    """A port whose listener sends back what it reads, as a socket connected to itself does."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)

    def echo() -> None:
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        with connection:
            connection.sendall(connection.recv(4096))

    thread = threading.Thread(target=echo, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    listener.close()
    thread.join(timeout=5)


def test_a_port_that_echoes_the_probe_is_not_ready(echo_port: int) -> None:
    supervisor = Supervisor(1, echo_port, None)
    assert supervisor._healthy(0) is False


def test_a_closed_port_is_not_ready() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert Supervisor(1, port, None)._healthy(0) is False
