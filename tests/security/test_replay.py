"""A copied session cookie is worthless once its session ended, on every route of a mount.

For each way a session ends, the cookie saved beforehand is replayed from a fresh client
against the page, ``config`` and ``queue/join``.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from tests.conftest import PASSWORD
from tests.security.conftest import ADMIN, MOUNT, csrf_token, session_cookie

from gradio_portal import Portal
from gradio_portal.testing import GradioEvents, LiveServer, login


def end_by_logout(victim: httpx.Client, signed_in: Callable[..., httpx.Client]) -> None:
    token = csrf_token(victim.get("/logout"))
    assert victim.post("/logout", data={"csrf_token": token}).status_code == 303


def end_by_password_change(victim: httpx.Client, signed_in: Callable[..., httpx.Client]) -> None:
    token = csrf_token(victim.get("/account/password"))
    new = "another long passphrase"
    answer = victim.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": new,
            "confirm": new,
            "csrf_token": token,
        },
    )
    assert answer.status_code == 303


def _row_action(page: str, username: str, suffix: str) -> str:
    """The action of the form ending in ``suffix`` in ``username``'s row of the users page."""
    row = page.split(f"<strong>{username}</strong>")[1].split("</tr>")[0]
    actions = [part.split('"')[0] for part in row.split('action="')[1:]]
    (action,) = [a for a in actions if a.endswith(suffix)]
    return action


def end_by_other_device_password_change(
    victim: httpx.Client, signed_in: Callable[..., httpx.Client]
) -> None:
    end_by_password_change(signed_in("alice"), signed_in)


def end_by_disable(victim: httpx.Client, signed_in: Callable[..., httpx.Client]) -> None:
    admin = signed_in(ADMIN)
    page = admin.get("/admin/users")
    action = _row_action(page.text, "alice", "/disable")
    assert admin.post(action, data={"csrf_token": csrf_token(page)}).status_code == 303


def end_by_admin_password_reset(
    victim: httpx.Client, signed_in: Callable[..., httpx.Client]
) -> None:
    admin = signed_in(ADMIN)
    page = admin.get("/admin/users")
    action = _row_action(page.text, "alice", "/password")
    answer = admin.post(action, data={"password": "reset by root", "csrf_token": csrf_token(page)})
    assert answer.status_code == 303


def end_everywhere(victim: httpx.Client, signed_in: Callable[..., httpx.Client]) -> None:
    token = csrf_token(victim.get("/account/sessions"))
    assert victim.post("/account/sessions/end-all", data={"csrf_token": token}).status_code == 303


ENDINGS = [
    end_by_logout,
    end_by_password_change,
    end_by_other_device_password_change,
    end_by_disable,
    end_by_admin_password_reset,
    end_everywhere,
]


@pytest.mark.parametrize("end", ENDINGS, ids=lambda f: f.__name__)
def test_replayed_cookie_gets_401_everywhere(
    end: Callable[[httpx.Client, Callable[..., httpx.Client]], None],
    signed_in: Callable[..., httpx.Client],
    secured: LiveServer,
) -> None:
    victim = signed_in("alice")
    stolen = session_cookie(victim)
    events = GradioEvents(victim, MOUNT)
    fn_index = events.fn_index("shout")
    assert events.call("shout", ["hi"]).output == ["HI"]  # the cookie worked before

    end(victim, signed_in)

    with httpx.Client(base_url=secured.url, cookies={"gradio_portal_session": stolen}) as thief:
        assert thief.get(MOUNT + "/").status_code == 401
        page = thief.get(MOUNT + "/", headers={"accept": "text/html"})
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
        assert thief.get(MOUNT + "/config").status_code == 401
        joined, _ = GradioEvents(thief, MOUNT).join(fn_index, ["x"])
        assert joined.status_code == 401
        assert thief.get("/account/sessions").status_code == 303  # to the login page


def test_a_disabled_user_cannot_sign_back_in(
    signed_in: Callable[..., httpx.Client], portal: Portal, secured: LiveServer
) -> None:
    victim = signed_in("alice")
    end_by_disable(victim, signed_in)
    account = portal.accounts.get("alice")
    assert account is not None and not account.is_active
    with httpx.Client(base_url=secured.url) as client:
        assert login(client, "alice", PASSWORD).status_code == 401
