"""Who may open which app: groups, per mount, on every route under it.

``portal.mount(blocks, path, groups=[...])`` admits members of those groups and administrators.
A signed-in outsider gets a readable 403 (a page for a browser, JSON for a script), never a
sign-in loop, on every route Gradio serves under the mount; a token acts with its user's
groups; a change of groups applies at once; the home page lists the apps a user may open.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import gradio as gr
import httpx
import pytest
from fastapi import FastAPI
from tests.conftest import PASSWORD

from gradio_portal import ConfigurationError, Context, Portal, UserError
from gradio_portal.testing import GradioEvents, LiveServer, csrf_token, login

RESTRICTED = "/analytics"
OPEN = "/public"


def who(ctx: Context) -> str:
    return ctx.user.username


def app(title: str) -> gr.Blocks:
    with gr.Blocks(title=title) as demo:
        out = gr.Textbox()
        gr.Button("who").click(who, None, out, api_name="who")
    return demo


@pytest.fixture
def server(portal: Portal, serve: Callable[[Any], LiveServer]) -> LiveServer:
    portal.accounts.set_groups("alice", ["Analysts"])
    portal.accounts.create("root", PASSWORD, roles=("admin",))
    portal.mount(app("Sales analytics"), RESTRICTED, groups=["analysts", "finance"])
    portal.mount(app("Public board"), OPEN)
    return serve(portal.app)


def signed_in(server: LiveServer, username: str) -> httpx.Client:
    client = httpx.Client(base_url=server.url, timeout=30)
    assert login(client, username, PASSWORD).status_code == 303
    return client


# Every kind of route Gradio serves under a mount (pages, config, API, queue, files, uploads).
ROUTES = [
    ("GET", "/", {"accept": "text/html"}),
    ("GET", "/config", {}),
    ("GET", "/gradio_api/info", {}),
    ("GET", "/gradio_api/queue/data?session_hash=abc", {}),
    ("POST", "/gradio_api/queue/join", {"content-type": "application/json"}),
    ("POST", "/gradio_api/run/who", {"content-type": "application/json"}),
    ("POST", "/gradio_api/call/who", {"content-type": "application/json"}),
    ("GET", "/gradio_api/heartbeat/abc", {}),
    ("GET", "/gradio_api/file=/etc/hostname", {}),
    ("POST", "/gradio_api/upload", {"content-type": "multipart/form-data; boundary=x"}),
    ("GET", "/gradio_api/mcp/schema", {}),
]


def test_an_outsider_gets_403_on_every_route_of_a_restricted_app(server: LiveServer) -> None:
    # Static assets (the frontend's code, theme.css) are the same for everyone, and served
    # without a session at all; everything else needs a member.
    bob = signed_in(server, "bob")
    for method, path, headers in ROUTES:
        answer = bob.request(method, RESTRICTED + path, headers=headers, content=b"{}")
        assert answer.status_code == 403, (path, answer.text)
        if "text/html" in headers.get("accept", ""):
            assert "ask an administrator" in answer.text.lower()
            assert "location" not in answer.headers  # no loop through the sign-in page
        else:
            assert "Ask an administrator" in answer.json()["detail"], path


def test_members_and_administrators_open_it_and_everyone_opens_the_open_app(
    server: LiveServer,
) -> None:
    alice, bob, root = (signed_in(server, name) for name in ("alice", "bob", "root"))
    assert GradioEvents(alice, RESTRICTED).call("who", []).output == ["alice"]
    assert GradioEvents(root, RESTRICTED).call("who", []).output == ["root"]
    assert GradioEvents(bob, OPEN).call("who", []).output == ["bob"]
    page = bob.get(RESTRICTED + "/", headers={"accept": "text/html"})
    assert page.status_code == 403


def test_a_token_acts_with_its_users_groups(portal: Portal, server: LiveServer) -> None:
    for name, status in (("alice", 200), ("bob", 403)):
        token, _ = portal.tokens.create(name)
        answer = httpx.get(
            server.url + RESTRICTED + "/config",
            headers={"authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert answer.status_code == status, name


def test_the_home_page_lists_the_apps_a_user_may_open(server: LiveServer) -> None:
    def listed(client: httpx.Client) -> list[str]:
        page = client.get("/")
        assert page.status_code == 200
        return re.findall(r'<li><a href="([^"]+)">', page.text)

    assert listed(signed_in(server, "alice")) == [RESTRICTED + "/", OPEN + "/"]
    assert listed(signed_in(server, "bob")) == [OPEN + "/"]
    root_page = signed_in(server, "root").get("/").text
    assert "Sales analytics" in root_page and 'href="/admin/users"' in root_page
    # Signing in without a destination lands on that list.
    with httpx.Client(base_url=server.url, timeout=30) as client:
        assert login(client, "bob", PASSWORD).headers["location"] == "/"
    assert httpx.get(server.url + "/", timeout=30).headers["location"].startswith("/login?next=")


def test_removing_a_user_from_a_group_applies_at_once(portal: Portal, server: LiveServer) -> None:
    alice, root = signed_in(server, "alice"), signed_in(server, "root")
    token, _ = portal.tokens.create("alice")
    bearer = {"authorization": f"Bearer {token}"}
    assert alice.get(RESTRICTED + "/config").status_code == 200
    assert (
        httpx.get(server.url + RESTRICTED + "/config", headers=bearer, timeout=30).status_code
        == 200
    )
    page = root.get("/admin/users")
    alice_id = portal.accounts.get("alice").user.id  # type: ignore[union-attr]
    answer = root.post(
        f"/admin/users/{alice_id}/groups",
        data={"groups": "marketing", "csrf_token": csrf_token(page)},
    )
    assert answer.status_code == 303
    assert portal.accounts.get("alice").user.groups == ("marketing",)  # type: ignore[union-attr]
    # Her sessions ended; signed in again she is an outsider; her token follows her groups.
    assert alice.get(RESTRICTED + "/config").status_code == 401
    assert login(alice, "alice", PASSWORD).status_code == 303
    assert alice.get(RESTRICTED + "/config").status_code == 403
    assert (
        httpx.get(server.url + RESTRICTED + "/config", headers=bearer, timeout=30).status_code
        == 403
    )


def test_apps_mounted_with_gradio_are_restricted_too(
    portal: Portal, serve: Callable[[Any], LiveServer]
) -> None:
    host = FastAPI()
    host = gr.mount_gradio_app(host, app("Finance"), path="/finance")
    restricted = Portal(host, settings=portal.settings)
    restricted.restrict("/finance", ["finance"])
    server = serve(host)
    bob = signed_in(server, "bob")
    assert bob.get("/finance/config").status_code == 403
    restricted.accounts.set_groups("bob", ["finance"])
    # A new sign-in carries the new groups.
    assert signed_in(server, "bob").get("/finance/config").status_code == 200


def test_misconfigured_groups_stop_the_start(portal: Portal) -> None:
    with pytest.raises(ConfigurationError, match="no group given"):
        portal.mount(app("x"), "/x", groups=[])
    with pytest.raises(UserError, match="invalid group"):
        portal.mount(app("y"), "/y", groups=["no spaces allowed"])
    portal.mount(app("z"), "/z")
    with pytest.raises(ConfigurationError, match="already guarded"):
        portal.restrict("/z", ["analysts"])
