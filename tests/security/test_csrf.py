"""Cross-site request forgery: every state-changing request is refused unless genuine.

Portal forms need the session's CSRF token and a same-origin (or absent) ``Origin``. Gradio's
endpoints under a mount take no token, so the portal refuses what a foreign page could send:
another ``Origin`` (or ``null``), ``Sec-Fetch-Site: cross-site``, and the content types an HTML
form or a preflight-free ``fetch`` can produce.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from tests.conftest import PASSWORD
from tests.security.conftest import ADMIN, MOUNT, build_files_app, csrf_token

from gradio_portal import Portal, PortalSettings
from gradio_portal.testing import GradioEvents, LiveServer, login

FOREIGN = "https://evil.example"


@dataclass
class World:
    portal: Portal
    admin: httpx.Client
    admin_elsewhere: httpx.Client
    bob: httpx.Client
    token: str
    bob_id: int

    def still_signed_in(self, *clients: httpx.Client) -> bool:
        return all(c.get(MOUNT + "/config").status_code == 200 for c in clients)


def make_world(portal: Portal, sign_in: Callable[[str], httpx.Client]) -> World:
    admin = sign_in(ADMIN)
    bob = portal.accounts.get("bob")
    assert bob is not None
    return World(
        portal=portal,
        admin=admin,
        admin_elsewhere=sign_in(ADMIN),
        bob=sign_in("bob"),
        token=csrf_token(admin.get("/account/sessions")),
        bob_id=bob.user.id,
    )


@pytest.fixture(scope="module")
def shared_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    # Refused posts change nothing, so the forged-post matrix can share one portal.
    portal = Portal(settings=PortalSettings(data_dir=tmp_path_factory.mktemp("csrf")))
    for name, roles in (("alice", ()), ("bob", ()), (ADMIN, ("admin",))):
        portal.accounts.create(name, PASSWORD, roles=roles)
    portal.mount(build_files_app(), MOUNT)
    with LiveServer(portal.app) as server:
        clients: list[httpx.Client] = []

        def sign_in(username: str) -> httpx.Client:
            client = httpx.Client(base_url=server.url, timeout=30)
            clients.append(client)
            assert login(client, username, PASSWORD).status_code == 303
            return client

        yield make_world(portal, sign_in)
        for client in clients:
            client.close()


@pytest.fixture
def world(signed_in: Callable[..., httpx.Client], portal: Portal) -> World:
    return make_world(portal, signed_in)


def other_key(w: World) -> str:
    page = w.admin.get("/account/sessions").text
    rows = [r for r in page.split("<tr>") if 'name="key"' in r and "this device" not in r]
    return rows[0].split('name="key" value="')[1].split('"')[0]


def bob_active(w: World) -> bool:
    account = w.portal.accounts.get("bob")
    return account is not None and account.is_active


@dataclass(frozen=True)
class Form:
    path: Callable[[World], str]
    fields: Callable[[World], dict[str, str]]
    unchanged: Callable[[World], bool]  # "nothing happened"
    prepare: Callable[[World], object] = lambda w: None


# Every signed-in form of the portal.
FORMS = {
    "logout": Form(
        lambda w: "/logout",
        lambda w: {"everywhere": "1"},
        lambda w: w.still_signed_in(w.admin, w.admin_elsewhere),
    ),
    "revoke": Form(
        lambda w: "/account/sessions/revoke",
        lambda w: {"key": other_key(w)},
        lambda w: w.still_signed_in(w.admin_elsewhere),
    ),
    "end-all": Form(
        lambda w: "/account/sessions/end-all",
        lambda w: {},
        lambda w: w.still_signed_in(w.admin, w.admin_elsewhere),
    ),
    "password": Form(
        lambda w: "/account/password",
        lambda w: {"current_password": PASSWORD, "new_password": "x" * 12, "confirm": "x" * 12},
        lambda w: w.still_signed_in(w.admin_elsewhere),
    ),
    "admin-add": Form(
        lambda w: "/admin/users",
        lambda w: {"username": "mallory", "password": PASSWORD, "admin": "1"},
        lambda w: w.portal.accounts.get("mallory") is None,
    ),
    "admin-disable": Form(
        lambda w: f"/admin/users/{w.bob_id}/disable",
        lambda w: {},
        lambda w: bob_active(w) and w.still_signed_in(w.bob),
    ),
    "admin-enable": Form(
        lambda w: f"/admin/users/{w.bob_id}/enable",
        lambda w: {},
        lambda w: not bob_active(w),
        prepare=lambda w: w.portal.accounts.set_active("bob", False),
    ),
    "admin-password": Form(
        lambda w: f"/admin/users/{w.bob_id}/password",
        lambda w: {"password": "y" * 12},
        lambda w: w.still_signed_in(w.bob),
    ),
}
ATTACKS: dict[str, Callable[[World], tuple[dict[str, str], dict[str, str]]]] = {
    "no-token": lambda w: ({}, {}),
    "wrong-token": lambda w: ({"csrf_token": "0" * 64}, {}),
    "non-ascii-token": lambda w: ({"csrf_token": "é" * 64}, {}),  # was a 500 (fuzzing)
    "other-session-token": lambda w: ({"csrf_token": csrf_token(w.bob.get("/logout"))}, {}),
    "foreign-origin": lambda w: ({"csrf_token": w.token}, {"origin": FOREIGN}),
    "null-origin": lambda w: ({"csrf_token": w.token}, {"origin": "null"}),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
@pytest.mark.parametrize("form", list(FORMS))
def test_every_form_refuses_forged_posts(shared_world: World, form: str, attack: str) -> None:
    spec, w = FORMS[form], shared_world
    spec.prepare(w)
    token_field, headers = ATTACKS[attack](w)
    answer = w.admin.post(spec.path(w), data={**spec.fields(w), **token_field}, headers=headers)
    assert answer.status_code == 403
    assert spec.unchanged(w)
    w.portal.accounts.set_active("bob", True)


@pytest.mark.parametrize("form", list(FORMS))
def test_the_genuine_post_goes_through(world: World, form: str) -> None:
    # The other half of the proof: the same request with the right token does act.
    spec = FORMS[form]
    spec.prepare(world)
    answer = world.admin.post(
        spec.path(world), data={**spec.fields(world), "csrf_token": world.token}
    )
    assert answer.status_code == 303
    assert not spec.unchanged(world)


@pytest.mark.parametrize(
    ("token", "headers"),
    [("", {}), ("0" * 64, {}), (None, {"origin": FOREIGN}), (None, {"origin": "null"})],
)
def test_login_form_refuses_forged_posts(
    secured: LiveServer, token: str | None, headers: dict[str, str]
) -> None:
    with httpx.Client(base_url=secured.url) as client:
        genuine = csrf_token(client.get("/login"))
        answer = client.post(
            "/login",
            data={
                "username": "alice",
                "password": PASSWORD,
                "csrf_token": genuine if token is None else token,
            },
            headers=headers,
        )
        assert answer.status_code == 403
        assert "gradio_portal_session" not in client.cookies


# -- Gradio's endpoints under a mount ------------------------------------------------------


def join_body(events: GradioEvents) -> bytes:
    return json.dumps(
        {
            "data": ["x"],
            "fn_index": events.fn_index("shout"),
            "session_hash": "csrf0test",
            "event_data": None,
            "trigger_id": None,
        }
    ).encode()


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"content-type": "text/plain"}, 415),
        ({"content-type": "text/plain;charset=UTF-8"}, 415),
        ({"content-type": "application/x-www-form-urlencoded"}, 415),
        ({"content-type": "multipart/form-data; boundary=x"}, 415),
        ({"content-type": "application/json", "origin": FOREIGN}, 403),
        ({"content-type": "application/json", "origin": "null"}, 403),
        ({"content-type": "application/json", "sec-fetch-site": "cross-site"}, 403),
    ],
)
def test_queue_join_refuses_what_a_foreign_page_can_send(
    signed_in: Callable[..., httpx.Client], headers: dict[str, str], status: int
) -> None:
    alice = signed_in("alice")
    events = GradioEvents(alice, MOUNT)
    answer = alice.post(
        MOUNT + "/gradio_api/queue/join", content=join_body(events), headers=headers
    )
    assert answer.status_code == status


def test_queue_join_from_the_page_itself_works(
    signed_in: Callable[..., httpx.Client], secured: LiveServer
) -> None:
    alice = signed_in("alice")
    events = GradioEvents(alice, MOUNT)
    answer = alice.post(
        MOUNT + "/gradio_api/queue/join",
        content=join_body(events),
        headers={
            "content-type": "application/json",
            "origin": secured.url,
            "sec-fetch-site": "same-origin",
        },
    )
    assert answer.status_code == 200


def test_upload_from_a_foreign_origin_is_refused(
    signed_in: Callable[..., httpx.Client], secured: LiveServer
) -> None:
    alice = signed_in("alice")
    files = {"files": ("note.txt", b"hello", "text/plain")}
    refused = alice.post(MOUNT + "/gradio_api/upload", files=files, headers={"origin": FOREIGN})
    assert refused.status_code == 403
    allowed = alice.post(MOUNT + "/gradio_api/upload", files=files, headers={"origin": secured.url})
    assert allowed.status_code == 200


def test_a_login_csrf_cookie_from_another_client_does_not_help(secured: LiveServer) -> None:
    # Signed double submit: a token is only valid with the nonce cookie it was made for.
    with (
        httpx.Client(base_url=secured.url) as attacker,
        httpx.Client(base_url=secured.url) as victim,
    ):
        token = csrf_token(attacker.get("/login"))
        victim.get("/login")
        answer = victim.post(
            "/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token}
        )
        assert answer.status_code == 403
        assert login(victim, "alice", PASSWORD).status_code == 303
