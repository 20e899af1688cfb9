"""Fixtures of the scale tests: a fresh PostgreSQL database and an nginx, or a loud skip."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.conftest import POSTGRES_URL, REDIS_URL, REQUIRE_SERVICES, require_service

from gradio_portal.testing.cluster import fresh_postgres_database
from gradio_portal.testing.nginx import nginx_binary


def require_nginx() -> None:
    if nginx_binary() is not None:
        return
    message = "nginx is not installed (scripts/install-system-deps installs nginx-light)"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} and GRADIO_PORTAL_REQUIRE_SERVICES=1")
    pytest.skip(f"SKIPPED LOUDLY: {message}")


@pytest.fixture(scope="module")
def scale_services() -> tuple[str, str]:
    """PostgreSQL and Redis URLs (the machine's), nginx checked; skip or fail when absent."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    require_service("Redis", "127.0.0.1", 6379)
    require_nginx()
    return POSTGRES_URL, REDIS_URL


@pytest.fixture(scope="module")
def module_database(scale_services: tuple[str, str]) -> Iterator[str]:
    """A private PostgreSQL database for one test module, dropped afterwards."""
    with fresh_postgres_database(scale_services[0]) as url:
        yield url


@pytest.fixture
def fresh_database(postgres_url: str) -> Iterator[str]:
    """A private PostgreSQL database for one test, dropped afterwards (nginx not needed)."""
    with fresh_postgres_database(postgres_url) as url:
        yield url
