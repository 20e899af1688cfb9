"""Two signed-in users against Gradio's own machinery: bodies, throttling, operator routes,
Gradio's sign-out, upload limits, what stays on the device, names in a terminal, sessions."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr
import httpx
import pytest
from tests.conftest import PASSWORD
from tests.security.conftest import MOUNT
from tests.security.test_uploads import file_value, upload

from gradio_portal import Portal, PortalSettings
from gradio_portal.testing import GradioEvents, LiveServer, login

# -- 2. one parse of the body, as the app will parse it ----------------------------------------


def _join_body(events: GradioEvents, path: str) -> dict[str, Any]:
    return {
        "data": [file_value(path)],
        "fn_index": events.fn_index("read_file"),
        "session_hash": "bobspage",
        "event_data": None,
        "trigger_id": None,
    }


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: b" " + text.encode(),
        lambda text: b"\n\t" + text.encode(),
        lambda text: b"\xef\xbb\xbf" + text.encode(),  # UTF-8 byte order mark
        lambda text: text.encode("utf-16"),
        lambda text: text.encode("utf-16-le"),
        lambda text: text.encode("utf-32"),
    ],
    ids=["space", "newline-tab", "utf8-bom", "utf16", "utf16-le", "utf32"],
)
def test_another_users_upload_cannot_hide_in_a_body_encoding(
    signed_in: Callable[..., httpx.Client], encode: Callable[[str], bytes]
) -> None:
    alice, bob = signed_in("alice"), signed_in("bob")
    path = upload(alice, b"alice's diary")
    events = GradioEvents(bob, MOUNT)
    body = encode(json.dumps(_join_body(events, path)))
    # The app itself accepts such a body (json.loads detects all of these)...
    assert json.loads(body)["data"][0]["path"] == path
    for route in (
        "/gradio_api/queue/join",
        "/gradio_api/run/read_file",
        "/gradio_api/call/read_file",
    ):
        answer = bob.post(MOUNT + route, content=body, headers={"content-type": "application/json"})
        assert answer.status_code == 403, (route, answer.status_code, answer.text)
        assert "belongs to someone else" in answer.text


def test_a_body_that_does_not_parse_is_refused_with_a_reason(
    signed_in: Callable[..., httpx.Client],
) -> None:
    bob = signed_in("bob")
    for body, reason in (
        (b"[" * 100_000, "nested too deeply"),
        (b'{"data": [', "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
    ):
        answer = bob.post(
            MOUNT + "/gradio_api/queue/join",
            content=body,
            headers={"content-type": "application/json"},
        )
        assert answer.status_code == 400, body[:20]
        assert reason in answer.json()["detail"]


def test_a_nul_byte_in_a_file_path_is_a_readable_400(
    signed_in: Callable[..., httpx.Client],
) -> None:
    bob = signed_in("bob")
    answer = bob.get(MOUNT + "/gradio_api/file=/tmp/x%00.txt")
    assert answer.status_code == 400
    assert "control characters" in answer.json()["detail"]


# -- 3. one spelling of a name for the throttle and for sign-in ---------------------------------


def test_a_look_alike_spelling_shares_the_lockout(
    make_settings: Callable[..., PortalSettings],
    serve: Callable[[Any], LiveServer],
    client_for: Callable[[LiveServer], httpx.Client],
) -> None:
    portal = Portal(settings=make_settings(login_attempts_per_account="3/minute"))
    portal.accounts.create("alice", PASSWORD)
    server = serve(portal.app)
    attacker = client_for(server)
    for spelling in ("alice", "ALICE", "alice "):
        assert login(attacker, spelling, "wrong password").status_code == 401
    # Full-width letters: NFKC makes them "alice", so sign-in would accept them.
    full_width = "\uff41\uff4c\uff49\uff43\uff45"
    assert login(client_for(server), full_width, PASSWORD).status_code == 429
    assert login(client_for(server), "alice", PASSWORD).status_code == 429


# -- 4 and 5. Gradio's operator routes and its own sign-out ------------------------------------


@pytest.fixture
def monitored(portal: Portal, serve: Callable[[Any], LiveServer]) -> LiveServer:
    portal.accounts.create("root", PASSWORD, roles=("admin",))
    with gr.Blocks() as demo:
        box = gr.Textbox()
        gr.Button().click(lambda text: text, box, box, api_name="echo")
    portal.mount(demo, MOUNT, enable_monitoring=True)
    return serve(portal.app)


def test_monitoring_is_for_administrators_only(
    monitored: LiveServer, client_for: Callable[[LiveServer], httpx.Client]
) -> None:
    bob, root = client_for(monitored), client_for(monitored)
    assert login(bob, "bob", PASSWORD).status_code == 303
    assert login(root, "root", PASSWORD).status_code == 303
    assert GradioEvents(bob, MOUNT).call("echo", ["bob's text"]).success
    for path in ("/monitoring/summary", "/monitoring", "/gradio_api/vibe-code"):
        refused = bob.get(MOUNT + path)
        assert refused.status_code == 403, path
        assert "Administrators only" in refused.json()["detail"]
    summary = root.get(MOUNT + "/monitoring/summary")
    assert summary.status_code == 200
    assert "echo" in summary.text


def test_gradios_profiling_is_for_administrators_only(
    portal: Portal,
    serve: Callable[[Any], LiveServer],
    client_for: Callable[[LiveServer], httpx.Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GRADIO_PROFILING=1 adds routes listing every user's events (ids, sessions) and one
    # clearing them, open to anyone the app lets in.
    monkeypatch.setattr("gradio.profiling.PROFILING_ENABLED", True)
    portal.accounts.create("root", PASSWORD, roles=("admin",))
    with gr.Blocks() as demo:
        box = gr.Textbox()
        gr.Button().click(lambda text: text, box, box, api_name="echo")
    portal.mount(demo, MOUNT)
    server = serve(portal.app)
    bob, root = client_for(server), client_for(server)
    assert login(bob, "bob", PASSWORD).status_code == 303
    assert login(root, "root", PASSWORD).status_code == 303
    for path in ("/gradio_api/profiling/traces", "/gradio_api/profiling/summary"):
        refused = bob.get(MOUNT + path)
        assert refused.status_code == 403, path
        assert "Administrators only" in refused.json()["detail"]
        assert root.get(MOUNT + path).status_code == 200, path


def test_gradios_own_logout_ends_the_portal_session(
    monitored: LiveServer, client_for: Callable[[LiveServer], httpx.Client]
) -> None:
    alice = client_for(monitored)
    assert login(alice, "alice", PASSWORD).status_code == 303
    token = alice.cookies["gradio_portal_session"]
    answer = alice.get(MOUNT + "/logout", headers={"sec-fetch-site": "same-origin"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"
    assert answer.headers["clear-site-data"] == '"cache", "storage"'
    replayed = httpx.get(
        monitored.url + MOUNT + "/config", cookies={"gradio_portal_session": token}
    )
    assert replayed.status_code == 401


def test_another_site_cannot_sign_a_user_out_through_gradios_logout(
    monitored: LiveServer, client_for: Callable[[LiveServer], httpx.Client]
) -> None:
    alice = client_for(monitored)
    assert login(alice, "alice", PASSWORD).status_code == 303
    answer = alice.get(MOUNT + "/logout", headers={"sec-fetch-site": "cross-site"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/logout"  # the confirmation page
    assert alice.get(MOUNT + "/config").status_code == 200


# -- 6. upload limits --------------------------------------------------------------------------


def _uploads_app() -> gr.Blocks:
    with gr.Blocks() as demo:
        gr.File()
    return demo


def _text_app() -> gr.Blocks:
    with gr.Blocks() as demo:
        box = gr.Textbox()
        gr.Button().click(lambda text: text, box, box)
    return demo


def test_uploads_have_a_size_limit_and_text_apps_take_none(
    make_settings: Callable[..., PortalSettings],
    serve: Callable[[Any], LiveServer],
    client_for: Callable[[LiveServer], httpx.Client],
) -> None:
    portal = Portal(settings=make_settings(max_upload_bytes=1000))
    portal.accounts.create("alice", PASSWORD)
    portal.mount(_uploads_app(), "/files")
    portal.mount(_text_app(), "/text")
    alice = client_for(serve(portal.app))
    assert login(alice, "alice", PASSWORD).status_code == 303

    def send(mount: str, size: int) -> httpx.Response:
        return alice.post(
            mount + "/gradio_api/upload", files={"files": ("a.bin", b"x" * size, "text/plain")}
        )

    assert send("/files", 900).status_code == 200
    too_big = send("/files", 5000)
    assert too_big.status_code == 413
    assert "1000 bytes" in too_big.text
    refused = send("/text", 10)
    assert refused.status_code == 413
    assert "takes no file uploads" in refused.json()["detail"]


# -- 7. nothing of a user's work stays on the device -------------------------------------------


def test_run_history_is_off_and_sign_out_clears_the_device(
    signed_in: Callable[..., httpx.Client],
) -> None:
    alice = signed_in("alice")
    config = alice.get(MOUNT + "/config").json()
    assert config.get("run_history") is False
    form = alice.get("/logout")
    token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
    answer = alice.post("/logout", data={"csrf_token": token})
    assert answer.status_code == 303
    assert answer.headers["clear-site-data"] == '"cache", "storage"'


def test_run_history_can_be_allowed(
    make_settings: Callable[..., PortalSettings],
    serve: Callable[[Any], LiveServer],
    client_for: Callable[[LiveServer], httpx.Client],
) -> None:
    portal = Portal(settings=make_settings(run_history=True))
    portal.accounts.create("alice", PASSWORD)
    portal.mount(_text_app(), MOUNT)
    alice = client_for(serve(portal.app))
    assert login(alice, "alice", PASSWORD).status_code == 303
    assert alice.get(MOUNT + "/config").json().get("run_history") is True


# -- 9. names from forms and SSO claims never drive a terminal ---------------------------------


def _users_list(settings: PortalSettings) -> subprocess.CompletedProcess[str]:
    """``gradio-portal users list`` as an administrator runs it, on the test's database."""
    return subprocess.run(
        [sys.executable, "-m", "gradio_portal", "users", "list"],
        capture_output=True,
        text=True,
        env={**os.environ, "GRADIO_PORTAL_DATA_DIR": str(settings.data_dir)},
        timeout=120,
        check=True,
    )


def test_control_characters_never_reach_the_users_list(
    portal: Portal, settings: PortalSettings
) -> None:
    created = portal.accounts.create(
        "eve", PASSWORD, display_name="Eve\x1b[2J\x1b]0;pwned\x07\u202eevil\u0000"
    )
    assert created.display_name == "Eve[2J]0;pwnedevil"
    listed = _users_list(settings)
    assert "eve" in listed.stdout
    assert not any(ord(c) < 32 and c not in "\n" for c in listed.stdout)
    assert "\u202e" not in listed.stdout


def test_names_stored_before_the_rule_are_escaped_in_the_list(
    portal: Portal, settings: PortalSettings
) -> None:
    from sqlalchemy import update

    from gradio_portal.storage.models import AccountRow

    with portal.database.session() as session:
        session.execute(
            update(AccountRow).where(AccountRow.username == "bob").values(display_name="B\x1bob")
        )
    listed = _users_list(settings)
    assert "\x1b" not in listed.stdout
    assert "B\\x1bob" in listed.stdout


# -- 10. a bounded number of sessions per user -------------------------------------------------


def test_signing_in_past_the_limit_ends_the_oldest_session(
    make_settings: Callable[..., PortalSettings],
    serve: Callable[[Any], LiveServer],
    client_for: Callable[[LiveServer], httpx.Client],
    tmp_path: Path,
) -> None:
    portal = Portal(settings=make_settings(max_sessions_per_user=3))
    portal.accounts.create("alice", PASSWORD)
    portal.mount(_text_app(), MOUNT)
    server = serve(portal.app)
    devices = [client_for(server) for _ in range(4)]
    for device in devices:
        assert login(device, "alice", PASSWORD).status_code == 303
    alive = [device.get(MOUNT + "/config").status_code for device in devices]
    assert alive == [401, 200, 200, 200]


# -- 10. the API document --------------------------------------------------------------------


def test_the_api_document_is_for_signed_in_users_and_loads_nothing_from_elsewhere(
    secured: LiveServer, signed_in: Callable[..., httpx.Client]
) -> None:
    anonymous = httpx.get(secured.url + "/openapi.json")
    assert anonymous.status_code == 401
    assert "Sign in at /login" in anonymous.json()["detail"]
    for page in ("/api/docs", "/docs", "/redoc"):
        answer = httpx.get(secured.url + page)
        assert answer.status_code in (303, 404), page
        assert "cdn.jsdelivr.net" not in answer.text
    document = signed_in("alice").get("/openapi.json")
    assert document.status_code == 200
    assert "/login" in document.json()["paths"]


def test_the_app_icon_comes_in_the_manifests_sizes_only(
    portal: Portal,
    serve: Callable[[Any], LiveServer],
    client_for: Callable[[LiveServer], httpx.Client],
    tmp_path: Path,
) -> None:
    # Gradio draws /pwa_icon/<n> n by n pixels in memory for any n: one request could take
    # gigabytes. The sizes its web manifest names are served to anyone (static), no others.
    from PIL import Image

    icon = tmp_path / "icon.png"
    Image.new("RGB", (16, 16), "teal").save(icon)
    with gr.Blocks() as demo:
        gr.Textbox()
    portal.mount(demo, MOUNT, favicon_path=str(icon))
    server = serve(portal.app)
    anonymous, alice = client_for(server), client_for(server)
    assert login(alice, "alice", PASSWORD).status_code == 303
    for size in ("", "/192", "/512"):
        answer = anonymous.get(f"{MOUNT}/pwa_icon{size}")
        assert answer.status_code == 200, size
        assert answer.headers["content-type"] == "image/png", size
    assert Image.open(io.BytesIO(anonymous.get(f"{MOUNT}/pwa_icon/192").content)).size == (
        192,
        192,
    )
    for size in ("/40000", "/0192", "/192/", "/1"):
        assert anonymous.get(f"{MOUNT}/pwa_icon{size}").status_code in (302, 303, 401), size
        refused = alice.get(f"{MOUNT}/pwa_icon{size}")
        assert refused.status_code == 404, size
        assert "sizes 192 and 512" in refused.json()["detail"]
