"""Single sign-on against a real OpenID Connect provider (oidc-provider-mock) on loopback."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from tests.conftest import PASSWORD
from tests.security.conftest import MOUNT, build_files_app
from tests.support.oidc_provider import OidcProvider, User

from gradio_portal import Portal, PortalSettings
from gradio_portal.testing import LiveServer

ALICE_AT_IDP = User(
    sub="idp-alice-1",
    claims={
        "email": "alice@example.com",
        "email_verified": True,
        "preferred_username": "alice",
        "name": "Alice (SSO)",
    },
)
CAROL_AT_IDP = User(sub="idp-carol-7", claims={"preferred_username": "carol", "name": "Carol"})


@pytest.fixture
def provider() -> Iterator[OidcProvider]:
    with OidcProvider([ALICE_AT_IDP, CAROL_AT_IDP]) as running:
        yield running


@pytest.fixture
def sso(
    provider: OidcProvider,
    make_settings: Callable[..., PortalSettings],
    serve: Callable[[Any], LiveServer],
) -> Callable[..., tuple[Portal, LiveServer]]:
    def make(**overrides: Any) -> tuple[Portal, LiveServer]:
        settings = make_settings(
            oidc_issuer=provider.issuer,
            oidc_client_id="gradio-portal",
            oidc_client_secret="client secret",
            oidc_display_name="Example ID",
            **overrides,
        )
        portal = Portal(settings=settings)
        portal.accounts.create("alice", PASSWORD, display_name="Alice (password)")
        portal.mount(build_files_app(), MOUNT)
        return portal, serve(portal.app)

    return make


@pytest.fixture
def portal_and_server(
    sso: Callable[..., tuple[Portal, LiveServer]],
) -> tuple[Portal, LiveServer]:
    return sso()


def start(client: httpx.Client, next: str = "") -> str:
    answer = client.get("/login/oidc", params={"next": next} if next else None)
    assert answer.status_code == 303, answer.text[:300]
    return answer.headers["location"]


def sign_in(
    client: httpx.Client, provider: OidcProvider, sub: str, next: str = ""
) -> httpx.Response:
    return client.get(provider.authorize(start(client, next), sub))


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def refused(answer: httpx.Response, client: httpx.Client, status: int = 401) -> bool:
    return (
        answer.status_code == status
        and "gradio_portal_session" not in client.cookies
        and client.get(MOUNT + "/config").status_code == 401
    )


def test_the_login_page_offers_single_sign_on(
    portal_and_server: tuple[Portal, LiveServer],
) -> None:
    page = httpx.get(portal_and_server[1].url + "/login")
    assert "Sign in with Example ID" in page.text


def test_the_flow_signs_in_a_new_sso_only_user(
    portal_and_server: tuple[Portal, LiveServer],
    provider: OidcProvider,
    client_for: Callable[[LiveServer], httpx.Client],
) -> None:
    portal, server = portal_and_server
    client = client_for(server)
    answer = sign_in(client, provider, CAROL_AT_IDP.sub, next="/app/?c=1")
    assert answer.status_code == 303 and answer.headers["location"] == "/app/?c=1"
    assert client.get(MOUNT + "/config").status_code == 200
    assert "gradio_portal_oidc" not in client.cookies  # one-shot
    carol = portal.accounts.get("carol")
    assert carol is not None and not carol.has_password and carol.user.display_name == "Carol"
    # The same identity later: the same user, not a new one.
    again = client_for(server)
    assert sign_in(again, provider, CAROL_AT_IDP.sub).status_code == 303
    assert [a.user.username for a in portal.accounts.list()] == ["alice", "carol"]


def test_pkce_s256_state_and_nonce_are_used(
    portal_and_server: tuple[Portal, LiveServer],
    provider: OidcProvider,
    client_for: Callable[[LiveServer], httpx.Client],
) -> None:
    client = client_for(portal_and_server[1])
    assert sign_in(client, provider, CAROL_AT_IDP.sub).status_code == 303
    asked, exchanged = provider.authorize_requests[-1], provider.token_requests[-1]
    assert asked["code_challenge_method"] == "S256"
    verifier = exchanged["code_verifier"]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    assert asked["code_challenge"] == challenge.decode().rstrip("=")
    assert len(verifier) >= 43 and len(asked["state"]) >= 20 and len(asked["nonce"]) >= 16


def test_an_existing_account_is_never_taken_over_by_matching_claims(
    portal_and_server: tuple[Portal, LiveServer],
    provider: OidcProvider,
    client_for: Callable[[LiveServer], httpx.Client],
) -> None:
    # The provider says preferred_username "alice" and alice's e-mail: still not alice.
    portal, server = portal_and_server
    client = client_for(server)
    assert sign_in(client, provider, ALICE_AT_IDP.sub).status_code == 303
    sessions = client.get("/account/sessions").text
    assert "alice-2" in sessions and "Alice (SSO)" in sessions
    password_alice = portal.accounts.get("alice")
    assert password_alice is not None and password_alice.user.display_name == "Alice (password)"


def test_a_wrong_state_is_refused(
    portal_and_server: tuple[Portal, LiveServer],
    provider: OidcProvider,
    client_for: Callable[[LiveServer], httpx.Client],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("WARNING", logger="gradio_portal.auth.oidc")
    client = client_for(portal_and_server[1])
    callback = provider.authorize(start(client), CAROL_AT_IDP.sub)
    assert refused(client.get(with_query(callback, state="forged-state-value")), client)
    assert "state does not match" in caplog.text  # refused for this reason, not another


def test_a_callback_in_another_browser_is_refused(
    portal_and_server: tuple[Portal, LiveServer],
    provider: OidcProvider,
    client_for: Callable[[LiveServer], httpx.Client],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("WARNING", logger="gradio_portal.auth.oidc")
    # Login CSRF: the attacker starts a flow, then makes the victim's browser finish it.
    attacker, victim = client_for(portal_and_server[1]), client_for(portal_and_server[1])
    callback = provider.authorize(start(attacker), CAROL_AT_IDP.sub)
    start(victim)  # even with a flow of its own in progress
    assert refused(victim.get(callback), victim)
    assert "state does not match" in caplog.text  # refused for this reason, not another


def test_a_wrong_nonce_is_refused(
    portal_and_server: tuple[Portal, LiveServer],
    provider: OidcProvider,
    client_for: Callable[[LiveServer], httpx.Client],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("WARNING", logger="gradio_portal.auth.oidc")
    # An ID token minted for another authorization request (another nonce) is not accepted.
    client = client_for(portal_and_server[1])
    url = with_query(start(client), nonce="a-nonce-this-browser-never-made")
    assert refused(client.get(provider.authorize(url, CAROL_AT_IDP.sub)), client)
    assert "Invalid claim: 'nonce'" in caplog.text  # refused for this reason, not another


def test_an_id_token_from_another_issuer_is_refused(
    portal_and_server: tuple[Portal, LiveServer],
    provider: OidcProvider,
    client_for: Callable[[LiveServer], httpx.Client],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("WARNING", logger="gradio_portal.auth.oidc")
    client = client_for(portal_and_server[1])
    callback = provider.authorize(start(client), CAROL_AT_IDP.sub)
    # The mock names its issuer after the Host it is reached by: the token now says
    # http://localhost:PORT while the portal trusts http://127.0.0.1:PORT.
    provider.host_override["/oauth2/token"] = f"localhost:{urlsplit(provider.issuer).port}"
    assert refused(client.get(callback), client)
    assert "Invalid claim: 'iss'" in caplog.text  # refused for this reason, not another


def test_discovery_naming_another_issuer_is_refused(
    portal_and_server: tuple[Portal, LiveServer],
    provider: OidcProvider,
    client_for: Callable[[LiveServer], httpx.Client],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("WARNING", logger="gradio_portal.auth.oidc")
    client = client_for(portal_and_server[1])
    port = urlsplit(provider.issuer).port
    provider.host_override["/.well-known/openid-configuration"] = f"localhost:{port}"
    assert refused(client.get("/login/oidc"), client, status=502)
    del provider.host_override["/.well-known/openid-configuration"]
    assert sign_in(client, provider, CAROL_AT_IDP.sub).status_code == 303  # re-discovered
    assert "discovery names issuer" in caplog.text  # refused for this reason, not another


def test_a_replayed_callback_is_refused(
    portal_and_server: tuple[Portal, LiveServer],
    provider: OidcProvider,
    client_for: Callable[[LiveServer], httpx.Client],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("WARNING", logger="gradio_portal.auth.oidc")
    first = client_for(portal_and_server[1])
    callback = provider.authorize(start(first), CAROL_AT_IDP.sub)
    flow_cookie = first.cookies["gradio_portal_oidc"]
    assert first.get(callback).status_code == 303
    thief = client_for(portal_and_server[1])
    thief.cookies.set("gradio_portal_oidc", flow_cookie)  # even with the flow cookie
    assert refused(thief.get(callback), thief)
    assert "invalid_grant" in caplog.text  # refused for this reason, not another


def test_a_tampered_flow_cookie_is_refused(
    portal_and_server: tuple[Portal, LiveServer],
    provider: OidcProvider,
    client_for: Callable[[LiveServer], httpx.Client],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("WARNING", logger="gradio_portal.auth.oidc")
    client = client_for(portal_and_server[1])
    callback = provider.authorize(start(client, next="/app/"), CAROL_AT_IDP.sub)
    body, mac = client.cookies["gradio_portal_oidc"].split(".")
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    forged = raw.replace(b'"/app/"', b'"https://evil.example/"')
    client.cookies.set(
        "gradio_portal_oidc", base64.urlsafe_b64encode(forged).decode().rstrip("=") + "." + mac
    )
    assert refused(client.get(callback), client)
    assert "no valid flow cookie" in caplog.text  # refused for this reason, not another


def test_the_flow_cookie_is_httponly_lax_and_short_lived(
    portal_and_server: tuple[Portal, LiveServer],
) -> None:
    answer = httpx.get(portal_and_server[1].url + "/login/oidc")
    cookie = next(
        c for c in answer.headers.get_list("set-cookie") if c.startswith("gradio_portal_oidc=")
    )
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=lax", "max-age=600"} <= flags


@pytest.mark.parametrize("hostile", ["https://evil.example/", "//evil.example", "/\\evil"])
def test_a_hostile_next_lands_at_home(
    portal_and_server: tuple[Portal, LiveServer],
    provider: OidcProvider,
    client_for: Callable[[LiveServer], httpx.Client],
    hostile: str,
) -> None:
    client = client_for(portal_and_server[1])
    answer = sign_in(client, provider, CAROL_AT_IDP.sub, next=hostile)
    assert answer.status_code == 303 and answer.headers["location"] == MOUNT + "/"


def test_a_disabled_sso_user_is_refused(
    portal_and_server: tuple[Portal, LiveServer],
    provider: OidcProvider,
    client_for: Callable[[LiveServer], httpx.Client],
) -> None:
    portal, server = portal_and_server
    assert sign_in(client_for(server), provider, CAROL_AT_IDP.sub).status_code == 303
    portal.accounts.set_active("carol", False)
    client = client_for(server)
    assert refused(sign_in(client, provider, CAROL_AT_IDP.sub), client, status=403)


def test_without_auto_creation_only_linked_identities_sign_in(
    sso: Callable[..., tuple[Portal, LiveServer]],
    provider: OidcProvider,
    client_for: Callable[[LiveServer], httpx.Client],
) -> None:
    portal, server = sso(oidc_create_users=False)
    client = client_for(server)
    assert refused(sign_in(client, provider, ALICE_AT_IDP.sub), client, status=403)
    assert [a.user.username for a in portal.accounts.list()] == ["alice"]
    alice = portal.accounts.get("alice")
    assert alice is not None and portal.oidc is not None
    portal.oidc.identities.link(alice.user.id, provider.issuer, ALICE_AT_IDP.sub)
    assert sign_in(client, provider, ALICE_AT_IDP.sub).status_code == 303
    assert "Alice (password)" in client.get("/account/sessions").text


def test_a_groups_claim_sets_the_users_groups_at_each_sign_in(
    make_settings: Callable[..., PortalSettings],
    serve: Callable[[Any], LiveServer],
    client_for: Callable[[LiveServer], httpx.Client],
) -> None:
    dave = User(
        sub="idp-dave-3",
        claims={"preferred_username": "dave", "groups": ["Analysts", "not a valid/group"]},
    )
    with OidcProvider([dave]) as provider:
        settings = make_settings(
            oidc_issuer=provider.issuer,
            oidc_client_id="gradio-portal",
            oidc_client_secret="client secret",
            oidc_groups_claim="groups",
        )
        portal = Portal(settings=settings)
        portal.mount(build_files_app(), "/reports", groups=["analysts"])
        portal.mount(build_files_app(), "/finance", groups=["finance"])
        server = serve(portal.app)
        client = client_for(server)
        assert sign_in(client, provider, dave.sub).status_code == 303
        account = portal.accounts.get("dave")
        # Names the portal cannot store are skipped; the others are kept, case-folded.
        assert account is not None and account.user.groups == ("analysts",)
        assert client.get("/reports/config").status_code == 200
        assert client.get("/finance/config").status_code == 403
