"""Fuzzing, bounded: the portal's API against its own OpenAPI document (schemathesis), and
property tests of the parsers that face raw attacker input (hypothesis).

"Bounded": a few dozen examples per operation and per property, no deadline (two shared
cores), so the whole file stays around a minute.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from starlette.datastructures import Headers
from tests.conftest import PASSWORD
from tests.security.conftest import ADMIN, MOUNT, build_files_app, csrf_token
from tests.support.oidc_provider import OidcProvider

from gradio_portal import Portal, PortalSettings
from gradio_portal.compat.routes import is_static
from gradio_portal.sessions import SessionManager, SQLSessionStore
from gradio_portal.sessions.base import new_token
from gradio_portal.sessions.cookies import read_cookie
from gradio_portal.storage import Database, upgrade
from gradio_portal.testing import LiveServer, login

BOUNDED = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
# What a form field can carry: any Unicode a browser can encode (no lone surrogates).
FIELD = st.text(st.characters(exclude_categories=("Cs",)), max_size=300)


class Target:
    """One portal (with single sign-on) served for the whole module, plus an admin cookie."""

    def __init__(self, data_dir: Path) -> None:
        self.provider = OidcProvider().__enter__()
        self.portal = Portal(
            settings=PortalSettings(
                data_dir=data_dir,
                oidc_issuer=self.provider.issuer,
                oidc_client_id="fuzz",
                login_attempts_per_account="100000/minute",
                login_attempts_per_address="100000/minute",
            )
        )
        self.portal.accounts.create(ADMIN, PASSWORD, roles=("admin",))
        self.portal.accounts.create("alice", PASSWORD)
        self.portal.mount(build_files_app(), MOUNT)
        self.server = LiveServer(self.portal.app).start()
        with httpx.Client(base_url=self.server.url) as client:
            assert login(client, ADMIN, PASSWORD).status_code == 303
            self.admin_cookie = client.cookies["gradio_portal_session"]

    def close(self) -> None:
        self.server.stop()
        self.provider.__exit__(None, None, None)


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    running = Target(tmp_path_factory.mktemp("fuzz"))
    yield running
    running.close()


def test_the_portal_api_has_no_500_and_keeps_its_schema(target: Target) -> None:
    """Every operation of ``portal.app.openapi()``, valid and invalid inputs, anonymous and
    as an administrator: answers stay within the documented statuses and content types, and
    are never server errors."""
    api = schemathesis.openapi.from_dict(target.portal.app.openapi())
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 10  # the login, account and admin forms are all documented
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
            def fuzz(case: Any) -> None:
                for cookies in ({}, {"gradio_portal_session": target.admin_cookie}):
                    case.call_and_validate(
                        base_url=target.server.url, cookies=cookies, allow_redirects=False
                    )

            try:
                fuzz()
            except Unsatisfiable:
                # No parameter to get wrong (GET /logout, say): nothing negative to send.
                assert mode is GenerationMode.NEGATIVE
    # Forged forms never act: the administrator is still signed in after all of that.
    with httpx.Client(base_url=target.server.url) as client:
        client.cookies.set("gradio_portal_session", target.admin_cookie)
        assert client.get(MOUNT + "/config").status_code == 200


def test_anonymous_fuzzing_of_every_gradio_route_never_reaches_gradio(target: Target) -> None:
    """The mounted Gradio app's own OpenAPI document, fuzzed without a session: static
    assets answer anything but a 5xx, everything else is the guard's 401 or login redirect."""
    with httpx.Client(base_url=target.server.url) as client:
        assert login(client, "alice", PASSWORD).status_code == 303
        spec = client.get(MOUNT + "/openapi.json").json()
    api = schemathesis.openapi.from_dict(spec)
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) > 50
    for operation in operations:
        fuzz_anonymously(operation, target.server.url + MOUNT)


def fuzz_anonymously(operation: Any, base_url: str) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
    def fuzz(case: Any) -> None:
        answer = case.call(base_url=base_url, allow_redirects=False)
        # The guard's own rule decides what is public, path by path.
        if is_static(urlsplit(case.formatted_path).path):
            assert answer.status_code < 500, (case.method, case.formatted_path)
        else:
            assert answer.status_code in (401, 303), (case.method, case.formatted_path)

    fuzz()


@given(username=FIELD, password=FIELD, next=FIELD, token=st.one_of(st.none(), FIELD))
@BOUNDED
def test_login_form_fields_never_cause_a_server_error(
    target: Target, username: str, password: str, next: str, token: str | None
) -> None:
    with httpx.Client(base_url=target.server.url) as client:
        genuine = csrf_token(client.get("/login"))
        answer = client.post(
            "/login",
            data={
                "username": username,
                "password": password,
                "next": next,
                "csrf_token": genuine if token is None else token,
            },
        )
    assert answer.status_code in (303, 401, 403, 422), answer.text[:300]
    if answer.status_code == 303:
        assert answer.headers["location"].startswith("/")
        assert not answer.headers["location"].startswith(("//", "/\\"))


@given(body=st.binary(max_size=600))
@BOUNDED
def test_raw_login_bodies_never_cause_a_server_error(target: Target, body: bytes) -> None:
    answer = httpx.post(
        target.server.url + "/login",
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code in (400, 403, 422), answer.text[:300]


@given(raw=st.binary(max_size=400))
@BOUNDED
def test_read_cookie_accepts_any_header_bytes(raw: bytes) -> None:
    value = read_cookie(Headers(raw=[(b"cookie", raw)]), "gradio_portal_session")
    assert value is None or isinstance(value, str)


@given(
    before=st.lists(st.text(string.ascii_letters + string.digits + "=-_ ", max_size=20), max_size=5)
)
@BOUNDED
def test_read_cookie_finds_the_token_among_other_cookies(before: list[str]) -> None:
    token = new_token()
    others = "; ".join(f"c{i}={v}" for i, v in enumerate(before))
    header = (others + "; " if others else "") + f"gradio_portal_session={token}; z=1"
    assert read_cookie(Headers({"cookie": header}), "gradio_portal_session") == token


@pytest.fixture(scope="module")
def manager(tmp_path_factory: pytest.TempPathFactory) -> SessionManager:
    url = f"sqlite:///{tmp_path_factory.mktemp('sessions') / 'portal.db'}"
    upgrade(url)
    return SessionManager(SQLSessionStore(Database(url)), idle_timeout=3600, absolute_timeout=86400)


@given(
    token=st.one_of(
        st.text(max_size=200), st.text(string.ascii_letters + "-_", min_size=43, max_size=43)
    )
)
@BOUNDED
def test_loading_an_arbitrary_token_finds_no_session(manager: SessionManager, token: str) -> None:
    assert manager.load(token) is None


@given(value=st.text(max_size=300))
@BOUNDED
def test_an_arbitrary_sso_flow_cookie_is_never_trusted(target: Target, value: str) -> None:
    assert target.portal.oidc is not None
    assert target.portal.oidc._unseal(value) is None
