"""Sign in and out through the portal's real forms, CSRF token included: sync and async.

The one place tests, benchmarks and your own tests read a form's CSRF token from; the browser
form of the same steps is :func:`gradio_portal.testing.browser.browser_login`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import httpx

__all__ = ["async_login", "async_logout", "csrf_token", "login", "logout"]

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(page: httpx.Response | str) -> str:
    """The CSRF token of the form on ``page`` (a response, or its HTML).

    Raises ``AssertionError`` naming the page when it carries no token (say, a 503 page).
    """
    match = _CSRF.search(page if isinstance(page, str) else page.text)
    if match is None:
        where = "the page" if isinstance(page, str) else f"{page.url} ({page.status_code})"
        raise AssertionError(f"no CSRF token on {where}")
    return match.group(1)


def _form(username: str, password: str, token: str, next: str) -> dict[str, str]:
    return {"username": username, "password": password, "csrf_token": token, "next": next}


def login(
    client: httpx.Client,
    username: str,
    password: str,
    *,
    next: str = "",
    login_path: str = "/login",
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """Sign ``client`` in through the login form; return the answer to the form's POST.

    A successful sign-in answers ``303`` (to ``next``, when it is safe) with the session cookie
    set on ``client``; a wrong password ``401``, a throttled one ``429``. ``headers`` go with
    the POST only.

    Example::

        with httpx.Client(base_url=server.url) as client:
            assert login(client, "ada", "her password").status_code == 303
    """
    token = csrf_token(client.get(login_path))
    return client.post(login_path, data=_form(username, password, token, next), headers=headers)


async def async_login(
    client: httpx.AsyncClient,
    username: str,
    password: str,
    *,
    next: str = "",
    login_path: str = "/login",
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """:func:`login` for an ``httpx.AsyncClient``."""
    token = csrf_token(await client.get(login_path))
    return await client.post(
        login_path, data=_form(username, password, token, next), headers=headers
    )


def logout(client: httpx.Client, *, logout_path: str = "/logout") -> httpx.Response:
    """Sign out through the confirmation form; return the POST's answer (``303`` to login)."""
    token = csrf_token(client.get(logout_path))
    return client.post(logout_path, data={"csrf_token": token})


async def async_logout(
    client: httpx.AsyncClient, *, logout_path: str = "/logout"
) -> httpx.Response:
    """:func:`logout` for an ``httpx.AsyncClient``."""
    token = csrf_token(await client.get(logout_path))
    return await client.post(logout_path, data={"csrf_token": token})
