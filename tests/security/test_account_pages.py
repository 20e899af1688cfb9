"""The sessions page, password change and user administration, driven like a browser."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest
from tests.conftest import PASSWORD
from tests.security.conftest import ADMIN, MOUNT, csrf_token, session_cookie

from gradio_portal import Portal
from gradio_portal.testing import LiveServer, login

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
NEW_PASSWORD = "a brand new passphrase"


def session_keys(page: httpx.Response) -> list[str]:
    return re.findall(r'name="key" value="([0-9a-f]{64})"', page.text)


def change_password(client: httpx.Client, current: str, new: str) -> httpx.Response:
    token = csrf_token(client.get("/account/password"))
    return client.post(
        "/account/password",
        data={
            "current_password": current,
            "new_password": new,
            "confirm": new,
            "csrf_token": token,
        },
    )


def test_sessions_page_lists_devices_addresses_and_this_device(
    signed_in: Callable[..., httpx.Client],
) -> None:
    laptop = signed_in("alice", user_agent=FIREFOX)
    signed_in("alice", user_agent=IPHONE)
    signed_in("bob", user_agent=FIREFOX)
    page = laptop.get("/account/sessions")
    assert page.status_code == 200
    assert "Firefox on Linux" in page.text and "Safari on iPhone" in page.text
    assert "127.0.0.1" in page.text and "just now" in page.text
    assert page.text.count("this device") == 1
    this_row = page.text.split("this device")[0].rsplit("<tr>", 1)[1]
    assert "Firefox on Linux" in this_row
    assert len(session_keys(page)) == 2  # bob's session is not alice's business


def test_revoking_another_of_my_sessions_ends_it(
    signed_in: Callable[..., httpx.Client],
) -> None:
    laptop = signed_in("alice", user_agent=FIREFOX)
    phone = signed_in("alice", user_agent=IPHONE)
    page = laptop.get("/account/sessions")
    phone_row = page.text.split("Safari on iPhone")[1]
    phone_key = session_keys(httpx.Response(200, text=phone_row))[0]
    answer = laptop.post(
        "/account/sessions/revoke", data={"key": phone_key, "csrf_token": csrf_token(page)}
    )
    assert answer.status_code == 303
    assert phone.get(MOUNT + "/config").status_code == 401
    assert laptop.get(MOUNT + "/config").status_code == 200
    assert len(session_keys(laptop.get("/account/sessions"))) == 1


def test_a_session_of_someone_else_cannot_be_revoked(
    signed_in: Callable[..., httpx.Client],
) -> None:
    alice = signed_in("alice")
    bob = signed_in("bob")
    bob_key = session_keys(bob.get("/account/sessions"))[0]
    page = alice.get("/account/sessions")
    answer = alice.post(
        "/account/sessions/revoke", data={"key": bob_key, "csrf_token": csrf_token(page)}
    )
    assert answer.status_code == 404
    assert bob.get(MOUNT + "/config").status_code == 200


def test_sign_out_everywhere_ends_every_session_of_the_user(
    signed_in: Callable[..., httpx.Client],
) -> None:
    first, second, bob = signed_in("alice"), signed_in("alice"), signed_in("bob")
    token = csrf_token(first.get("/account/sessions"))
    answer = first.post("/account/sessions/end-all", data={"csrf_token": token})
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    for client in (first, second):
        assert client.get(MOUNT + "/config").status_code == 401
    assert bob.get(MOUNT + "/config").status_code == 200


def test_password_change_ends_other_sessions_and_rotates_this_one(
    signed_in: Callable[..., httpx.Client], secured: LiveServer
) -> None:
    here, elsewhere = signed_in("alice"), signed_in("alice")
    before = session_cookie(here)
    answer = change_password(here, PASSWORD, NEW_PASSWORD)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/account/sessions?done=password"
    assert session_cookie(here) != before
    assert here.get(MOUNT + "/config").status_code == 200
    assert elsewhere.get(MOUNT + "/config").status_code == 401
    with httpx.Client(base_url=secured.url) as fresh:
        assert login(fresh, "alice", PASSWORD).status_code == 401
        assert login(fresh, "alice", NEW_PASSWORD).status_code == 303


@pytest.mark.parametrize(
    ("current", "new", "confirm", "status"),
    [
        ("wrong password", NEW_PASSWORD, NEW_PASSWORD, 400),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", 400),
        (PASSWORD, "short", "short", 400),
    ],
)
def test_password_change_mistakes_change_nothing(
    signed_in: Callable[..., httpx.Client], current: str, new: str, confirm: str, status: int
) -> None:
    here, elsewhere = signed_in("alice"), signed_in("alice")
    token = csrf_token(here.get("/account/password"))
    answer = here.post(
        "/account/password",
        data={
            "current_password": current,
            "new_password": new,
            "confirm": confirm,
            "csrf_token": token,
        },
    )
    assert answer.status_code == status
    assert elsewhere.get(MOUNT + "/config").status_code == 200


def test_password_guessing_through_the_change_form_is_throttled(
    make_settings: Callable[..., object],
    serve: Callable[..., LiveServer],
    client_for: Callable[[LiveServer], httpx.Client],
) -> None:
    portal = Portal(settings=make_settings(login_attempts_per_account="3/minute"))  # type: ignore[arg-type]
    portal.accounts.create("alice", PASSWORD)
    client = client_for(serve(portal.app))
    assert login(client, "alice", PASSWORD).status_code == 303
    statuses = [change_password(client, f"guess {i}", NEW_PASSWORD).status_code for i in range(4)]
    assert statuses == [400, 400, 400, 429]
    blocked = change_password(client, PASSWORD, NEW_PASSWORD)
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0


def test_anonymous_visitors_are_sent_to_sign_in(secured: LiveServer) -> None:
    with httpx.Client(base_url=secured.url) as anonymous:
        for page in ("/account/sessions", "/account/password", "/admin/users"):
            answer = anonymous.get(page)
            assert answer.status_code == 303
            assert answer.headers["location"] == f"/login?next={page}"
        assert anonymous.post("/account/sessions/end-all").status_code == 401


def test_non_administrators_get_403(signed_in: Callable[..., httpx.Client], portal: Portal) -> None:
    alice = signed_in("alice")
    assert alice.get("/admin/users").status_code == 403
    token = csrf_token(alice.get("/account/sessions"))
    bob = portal.accounts.get("bob")
    assert bob is not None
    for path, data in (
        ("/admin/users", {"username": "mallory", "password": PASSWORD}),
        (f"/admin/users/{bob.user.id}/disable", {}),
        (f"/admin/users/{bob.user.id}/password", {"password": "pwned by alice"}),
    ):
        assert alice.post(path, data={**data, "csrf_token": token}).status_code == 403
    assert portal.accounts.get("mallory") is None
    assert portal.accounts.get("bob") == bob


def test_admin_adds_disables_enables_and_resets(
    signed_in: Callable[..., httpx.Client], portal: Portal, secured: LiveServer
) -> None:
    admin = signed_in(ADMIN)
    page = admin.get("/admin/users")
    assert page.status_code == 200 and "alice" in page.text and "bob" in page.text
    token = csrf_token(page)
    added = admin.post(
        "/admin/users",
        data={
            "username": "dave",
            "display_name": "Dave",
            "password": PASSWORD,
            "csrf_token": token,
        },
    )
    assert added.status_code == 303
    dave = portal.accounts.get("dave")
    assert dave is not None and dave.is_active and dave.user.roles == ()

    dave_client = signed_in("dave")
    assert (
        admin.post(f"/admin/users/{dave.user.id}/disable", data={"csrf_token": token}).status_code
        == 303
    )
    assert dave_client.get(MOUNT + "/config").status_code == 401
    with httpx.Client(base_url=secured.url) as fresh:
        assert login(fresh, "dave", PASSWORD).status_code == 401
    assert (
        admin.post(f"/admin/users/{dave.user.id}/enable", data={"csrf_token": token}).status_code
        == 303
    )
    dave_client = signed_in("dave")
    assert (
        admin.post(
            f"/admin/users/{dave.user.id}/password",
            data={"password": NEW_PASSWORD, "csrf_token": token},
        ).status_code
        == 303
    )
    assert dave_client.get(MOUNT + "/config").status_code == 401
    with httpx.Client(base_url=secured.url) as fresh:
        assert login(fresh, "dave", NEW_PASSWORD).status_code == 303


def test_admin_form_mistakes_are_reported_not_applied(
    signed_in: Callable[..., httpx.Client], portal: Portal
) -> None:
    admin = signed_in(ADMIN)
    token = csrf_token(admin.get("/admin/users"))
    duplicate = admin.post(
        "/admin/users", data={"username": "Alice", "password": PASSWORD, "csrf_token": token}
    )
    assert duplicate.status_code == 400 and "already exists" in duplicate.text
    me = portal.accounts.get(ADMIN)
    assert me is not None
    own = admin.post(f"/admin/users/{me.user.id}/disable", data={"csrf_token": token})
    assert own.status_code == 400
    assert admin.post("/admin/users/999999/disable", data={"csrf_token": token}).status_code == 404
    assert portal.accounts.get(ADMIN) == me


def test_a_demoted_administrator_loses_access_at_once(
    signed_in: Callable[..., httpx.Client], portal: Portal
) -> None:
    admin = signed_in(ADMIN)
    assert admin.get("/admin/users").status_code == 200
    portal.accounts.set_roles(ADMIN, ())
    assert admin.get("/admin/users").status_code == 403
