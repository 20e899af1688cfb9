"""/admin/chat on a real server: administrators choose the default model and system prompt and
the models offered; the chat and its API follow; nobody else can change them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from tests.conftest import PASSWORD
from tests.support.fake_openai import MODEL_OK, FakeOpenAI

from gradio_portal import Portal, PortalSettings
from gradio_portal.chat import mount_chat
from gradio_portal.storage.models import AuditEventRow
from gradio_portal.testing import LiveServer, login

PAGE = "/admin/chat"
AJAX = {"X-Requested-With": "XMLHttpRequest"}


@pytest.fixture(scope="module")
def model_server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(first_token_delay=0) as fake:
        fake.models = [MODEL_OK, "fake-large"]
        yield fake


@pytest.fixture
def portal(make_settings: Callable[..., PortalSettings], model_server: FakeOpenAI) -> Portal:
    settings = make_settings(
        chat_backend="openai",
        openai_base_url=model_server.base_url,
        openai_model=MODEL_OK,
        openai_api_key=model_server.api_key,
        chat_system_prompt="From the settings.",
    )
    portal = Portal(settings=settings)
    portal.accounts.create("root", PASSWORD, display_name="Root", roles=("admin",))
    portal.accounts.create("alice", PASSWORD, display_name="Alice")
    mount_chat(portal)
    return portal


@pytest.fixture
def server(portal: Portal, serve: Callable[[Any], LiveServer]) -> LiveServer:
    return serve(portal.app)


def signed_in(
    server: LiveServer, client_for: Callable[[LiveServer], httpx.Client], name: str
) -> httpx.Client:
    client = client_for(server)
    assert login(client, name, PASSWORD).status_code == 303
    return client


def form_token(client: httpx.Client) -> str:
    page = client.get(PAGE)
    assert page.status_code == 200, page.text
    return page.text.split('name="csrf_token" value="')[1].split('"')[0]


def test_an_administrator_sets_the_chats_defaults_and_the_chat_follows(
    portal: Portal,
    server: LiveServer,
    client_for: Callable[[LiveServer], httpx.Client],
    model_server: FakeOpenAI,
) -> None:
    root = signed_in(server, client_for, "root")
    page = root.get(PAGE)
    assert "fake-large" in page.text  # what the model server lists is shown
    saved = root.post(
        PAGE,
        data={
            "offered_models": f"fake-large\n{MODEL_OK}\n",
            "default_model": "fake-large",
            "system_prompt": "Answer like a pirate.",
            "csrf_token": form_token(root),
        },
    )
    assert saved.status_code == 303 and saved.headers["location"] == PAGE + "?done=saved"
    assert "Saved." in root.get(PAGE + "?done=saved").text

    alice = signed_in(server, client_for, "alice")
    assert alice.get("/api/models").json() == {
        "models": ["fake-large", MODEL_OK],
        "default": "fake-large",
    }
    model_server.requests.clear()
    answered = alice.post("/api/conversations", json={"message": "Ahoy?"}, headers=AJAX)
    assert answered.status_code == 200
    [request] = [r for r in model_server.requests if r.path.endswith("/chat/completions")]
    assert request.body["model"] == "fake-large"
    assert request.messages[0] == {"role": "system", "content": "Answer like a pirate."}

    with portal.database.session() as session:
        events = session.scalars(
            select(AuditEventRow.event).where(AuditEventRow.username == "root")
        ).all()
    assert "chat.preferences_changed" in events


def test_a_default_outside_the_offer_is_refused_and_nothing_changes(
    server: LiveServer, client_for: Callable[[LiveServer], httpx.Client]
) -> None:
    root = signed_in(server, client_for, "root")
    refused = root.post(
        PAGE,
        data={
            "offered_models": MODEL_OK,
            "default_model": "fake-large",
            "system_prompt": "",
            "csrf_token": form_token(root),
        },
    )
    assert refused.status_code == 400
    assert "is not among the models offered" in refused.text
    assert root.get("/api/models").json()["default"] == MODEL_OK  # the setting still applies


def test_only_administrators_with_a_browser_and_this_sites_form_change_them(
    portal: Portal, server: LiveServer, client_for: Callable[[LiveServer], httpx.Client]
) -> None:
    alice = signed_in(server, client_for, "alice")
    assert alice.get(PAGE).status_code == 403
    assert alice.post(PAGE, data={"default_model": "x", "csrf_token": ""}).status_code == 403

    root = signed_in(server, client_for, "root")
    forged = root.post(PAGE, data={"default_model": MODEL_OK, "csrf_token": "forged"})
    assert forged.status_code == 403
    cross_site = root.post(
        PAGE,
        data={"default_model": MODEL_OK, "csrf_token": form_token(root)},
        headers={"Origin": "https://evil.example"},
    )
    assert cross_site.status_code == 403

    token, _ = portal.tokens.create("root")
    with httpx.Client(base_url=server.url, timeout=30) as script:
        assert script.get(PAGE, headers={"Authorization": f"Bearer {token}"}).status_code == 403
    with httpx.Client(base_url=server.url, timeout=30, follow_redirects=False) as anonymous:
        assert anonymous.get(PAGE).status_code in (303, 307)
