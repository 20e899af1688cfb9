"""Shared fixtures: portals on real SQLite files, and service checks.

Live servers, signed-in clients and browsers come from gradio-portal's own pytest plugin
(gradio_portal.testing.plugin), the one users of the library get.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from gradio_portal import Portal, PortalSettings
from gradio_portal.testing import LiveServer

PASSWORD = "correct horse battery"
REQUIRE_SERVICES = os.environ.get("GRADIO_PORTAL_REQUIRE_SERVICES") == "1"
POSTGRES_URL = os.environ.get(
    "GRADIO_PORTAL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("GRADIO_PORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests configure portals explicitly; a developer's GRADIO_PORTAL_* must not leak in.
    for name in list(os.environ):
        if name.startswith("GRADIO_PORTAL_") and name != "GRADIO_PORTAL_REQUIRE_SERVICES":
            monkeypatch.delenv(name)
    # Nor a .env file in the working directory (settings read one).
    monkeypatch.setitem(PortalSettings.model_config, "env_file", None)


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., PortalSettings]:
    def make(**overrides: Any) -> PortalSettings:
        values: dict[str, Any] = {"data_dir": tmp_path / "data"}
        values.update(overrides)
        return PortalSettings(**values)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., PortalSettings]) -> PortalSettings:
    return make_settings()


@pytest.fixture
def portal(settings: PortalSettings) -> Portal:
    portal = Portal(settings=settings)
    portal.accounts.create("alice", PASSWORD, display_name="Alice Liddell")
    portal.accounts.create("bob", PASSWORD, display_name="Bob")
    return portal


@pytest.fixture
def serve(portal_server: Callable[..., LiveServer]) -> Callable[..., LiveServer]:
    """``serve(app)``: the plugin's ``portal_server``, under this suite's name."""
    return portal_server


@pytest.fixture
def client_for(portal_client: Callable[..., httpx.Client]) -> Callable[..., httpx.Client]:
    """``client_for(server)``: the plugin's ``portal_client``, under this suite's name."""
    return portal_client


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip loudly when a service is down, or fail when CI demands every service."""
    if _reachable(host, port):
        return
    message = f"{name} is not reachable at {host}:{port}"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} and GRADIO_PORTAL_REQUIRE_SERVICES=1: start it (see README)")
    pytest.skip(f"SKIPPED LOUDLY: {message}; these tests need it")


@pytest.fixture
def postgres_url() -> str:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    return POSTGRES_URL


@pytest.fixture
def redis_url() -> str:
    require_service("Redis", "127.0.0.1", 6379)
    return REDIS_URL
