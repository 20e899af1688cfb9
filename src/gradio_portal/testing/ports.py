"""Loopback ports for servers a test starts in other processes (portal processes, nginx)."""

from __future__ import annotations

import secrets
import socket
import time
from pathlib import Path

__all__ = ["consecutive_free_ports", "wait_for_port"]


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def consecutive_free_ports(n: int) -> int:
    """A base port such that ``base .. base+n-1`` are free on loopback now.

    Below the kernel's ephemeral range: a probe of a port in that range, before its server
    listens, can be given that same port as its own source and connect to itself.
    """
    lowest, ceiling = 20000, _ephemeral_start() - n
    for _ in range(200):
        base = lowest + secrets.randbelow(max(1, ceiling - lowest))
        if all(_port_free(base + i) for i in range(n)):
            return base
    raise RuntimeError(f"no {n} consecutive free ports found")


def _ephemeral_start(default: int = 32768) -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return default


def wait_for_port(port: int, timeout: float, host: str = "127.0.0.1") -> None:
    """Return once something accepts connections on ``port``; OSError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
