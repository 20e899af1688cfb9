"""The redirect-target check against a hostile corpus and a WHATWG URL parser (ada)."""

from __future__ import annotations

import unicodedata
from urllib.parse import parse_qs, quote, unquote, urlsplit

import ada_url
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradio_portal.navigation.urls import (
    MAX_URL_LENGTH,
    is_safe_url,
    login_url,
    safe_redirect_target,
)

ALLOWED = ("good.test",)
BASES = (
    "http://portal.test/",
    "https://portal.test/",
    "http://portal.test/auth/login?next=x#y",
    "https://portal.test:8443/a/b/",
)

# Cases marked (django) come from Django's tests for url_has_allowed_host_and_scheme, with
# its allowed host ``testserver`` renamed ``good.test``.
REJECTED = [
    # scheme-relative, every spelling
    "//evil.com",
    "///evil.com",
    "////evil.com",
    "//good.test/",  # allowed host, but the scheme would be inherited: always rejected
    r"\\evil.com",  # (django)
    r"\\\evil.com",  # (django)
    r"/\\/evil.com",  # (django)
    r"\\//evil.com",  # (django)
    r"/\/evil.com",  # (django)
    r"\/evil.com",  # (django)
    r"/\evil.com",  # (django)
    "/%2F%2Fevil.com",
    "/%2f/evil.com",
    "%2F%2Fevil.com",
    "%2F%2F",
    "/%5Cevil.com",
    "%5C%5Cevil.com",
    "/%252F%252Fevil.com",
    "/%25252F%25252Fevil.com",
    "/\uff0fevil.com",
    "\uff0f\uff0fevil.com",
    "\uff3c\uff3cevil.com",
    "/\uff3cevil.com",
    "%EF%BC%8F%EF%BC%8Fevil.com",
    "/%EF%BC%8Fevil.com",
    # control characters and spaces (the WHATWG parser strips them)
    "\t//evil.com",
    "/\t/evil.com",
    "/\n/evil.com",
    "/\r/evil.com",
    "/%09/evil.com",
    " //evil.com",
    "//evil.com ",
    " /chat",
    "\x00//evil.com",
    "/\x00/evil.com",
    "\x08//evil.com",  # (django)
    "\x1f/chat",
    "/chat\x7f",
    "/chat\u0085",
    "\u3000//evil.com",
    "/\u00a0/evil.com",
    "/\u200b/evil.com",
    "/chat\u202e",
    "/chat\u2028",
    "/chat%00",
    "https://good.test/%0d%0aSet-Cookie:%20x=1",
    "\n",  # (django)
    " ",
    "",
    # script and other schemes, in any case and with stripped characters inside
    'javascript:alert("XSS")',  # (django)
    "\njavascript:alert(x)",  # (django)
    "JAVASCRIPT:alert(1)",
    "JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "java\rscript:alert(1)",
    "java\x00script:alert(1)",
    " javascript:alert(1)",
    "\x01javascript:alert(1)",
    "javascript%3Aalert(1)",
    "javascript://good.test/%0aalert(1)",
    "\uff4aavascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "DATA:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "VBScript:msgbox(1)",
    "file:///etc/passwd",
    "FILE://etc/passwd",
    "blob:http://portal.test/0b6c",
    "ftp://example.com",  # (django)
    "ftp:9999999999",  # (django)
    "ws://good.test/",
    "mailto:a@good.test",
    # other hosts, userinfo and credential tricks
    "http://example.com",  # (django)
    "https://example.com",  # (django)
    "http:///example.com",  # (django)
    r"http:/\//example.com",  # (django)
    r"http:\/example.com",  # (django)
    r"http:/\example.com",  # (django)
    r"http://otherserver\@example.com",  # (django)
    r"http:\\good.test\@example.com",  # (django)
    r"http://good.test\me:pass@example.com",  # (django)
    r"http://good.test\@example.com",  # (django)
    r"http:\\good.test\confirm\me@example.com",  # (django)
    "http:999999999",  # (django)
    "http://[2001:cdba:0000:0000:0000:0000:3257:9652/",  # (django)
    "http://2001:cdba:0000:0000:0000:0000:3257:9652]/",  # (django)
    "user@evil.com",
    "http://user@good.test/",
    "http://good.test@evil.com",
    "http://good.test:80@evil.com",
    "http://good.test%40evil.com",
    "http://evil.com#@good.test",
    "http://evil.com?@good.test",
    "http://evil.com/good.test",
    "http://good.test//evil.com",  # a path the next hop could redirect with
    r"http://good.test/\evil.com",
    "http:evil.com",
    "https:evil.com",
    "http:good.test",
    "http:/evil.com",
    "https:/evil.com",
    r"https:\\evil.com",
    r"http:\evil.com",
    # hosts that look like the allowed one
    "http://good.test./",
    "http://good.test.evil.com/",
    "http://evilgood.test/",
    "http://good.test\u3002evil.com/",
    "http://evil.com\uff0fgood.test",
    "http://g\u043e\u043ed.test/",  # Cyrillic o
    "http://xn--gd-jbba.test/",
    "http://%67ood.test/",
    "http://good.test:/",
    "http://good.test:443/",  # not the default port of http
    "http://good.test:99999/",
    "http://good.test:8o/",
    "http://0x7f.1/",
    "http://2130706433/",
    "http://[::1]/",
    "http://[::1/",
    # relative references that are not absolute paths (rejected by design)
    "page",
    "chat/c/42",
    "view/?param=//example.com",  # (django, accepted there)
    "path/http:2222222222",  # (django, accepted there)
    "?next=/x",
    "#frag",
    "./x",
    "../x",
    # dot segments can turn into ``//host`` paths
    "/..//evil.com",
    "/.//evil.com",
    "/.",
    "/..",
    "/a/../../evil",
    "/%2e%2e/x",
    "/.%2e/x",
    "/%2E./x",
    "/\u2025/x",
    # too long
    "/" + "a" * MAX_URL_LENGTH,
]

ACCEPTED = [
    "/",
    "/chat/c/42",
    "/a?b=c#d",
    "/chat/",
    "/view/?param=http://example.com",  # (django)
    "/view/?param=https://example.com",  # (django)
    "/view?param=ftp://example.com",  # (django)
    "/view/?param=//example.com",
    "/url%20with%20spaces/",  # (django)
    "/a b",
    "/chat ",  # browsers strip the space; harmless
    "/?%20",
    "/caf\u00e9",
    "/caf%C3%A9",
    "/search?q=a%2Fb",
    "/a//b",
    "/a?next=%2F%2Fevil.com",
    "/a#//evil.com",
    "/a?x=../y",
    "/%7Euser",
    "/.../a..b/c.",
    "/a\uff0fb",
    "/" + "a" * (MAX_URL_LENGTH - 1),
    "https://good.test/",  # (django)
    "HTTPS://good.test/",  # (django)
    "HTTPS://GOOD.TEST/",
    "http://good.test",
    "http://good.test/confirm?email=me@example.com",  # (django)
    "http://good.test:80/x",
    "https://good.test:443",
    "http://good.test?x=1",
    "http://good.test#f",
]


@pytest.mark.parametrize("url", REJECTED)
def test_rejected(url: str) -> None:
    assert not is_safe_url(url, allowed_hosts=ALLOWED)
    assert safe_redirect_target(url, allowed_hosts=ALLOWED) == "/"


@pytest.mark.parametrize("url", ACCEPTED)
def test_accepted(url: str) -> None:
    assert is_safe_url(url, allowed_hosts=ALLOWED)
    assert safe_redirect_target(url, default="/home", allowed_hosts=ALLOWED) == url


def test_corpus_is_large_enough() -> None:
    assert len(REJECTED) >= 80


@pytest.mark.parametrize("url", [u for u in ACCEPTED if not u.startswith("/")])
def test_absolute_urls_need_an_allowed_host(url: str) -> None:
    assert not is_safe_url(url)


@pytest.mark.parametrize(
    ("url", "allowed_hosts", "expected"),
    [
        ("http://xn--bcher-kva.example/", ["b\u00fccher.example"], True),
        ("http://b\u00fccher.example/", ["xn--bcher-kva.example"], True),
        ("http://B\u00dcCHER.example/", ["xn--bcher-kva.example"], True),
        ("http://\uff47ood.test/", ["good.test"], True),
        ("http://fa\u00df.de/", ["fass.de"], False),
        ("http://fass.de/", ["fass.de"], True),
        ("https://good.test:8443/", ["good.test"], False),
        ("https://good.test:8443/", ["good.test:8443"], True),
        ("https://good.test/", ["good.test:8443"], False),
        ("http://[::1]:8000/", ["[::1]:8000"], True),
        ("http://[0:0::1]:8000/", ["[::1]:8000"], True),
        ("http://127.0.0.1/", ["127.0.0.1"], True),
        ("http://sub.good.test/", ["good.test"], False),
        ("http://good.test/", ["sub.good.test"], False),
    ],
)
def test_host_normalisation(url: str, allowed_hosts: list[str], expected: bool) -> None:
    assert is_safe_url(url, allowed_hosts=allowed_hosts) is expected


def test_allowed_schemes_restricts_absolute_urls_only() -> None:
    assert not is_safe_url("http://good.test/", allowed_hosts=ALLOWED, allowed_schemes=("https",))
    assert is_safe_url("https://good.test/", allowed_hosts=ALLOWED, allowed_schemes=("HTTPS",))
    assert is_safe_url("/chat", allowed_schemes=())


@pytest.mark.parametrize("schemes", [("javascript",), ("http", "data"), ("ftp",)])
def test_non_http_schemes_cannot_be_allowed(schemes: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="allowed_schemes"):
        is_safe_url("/", allowed_schemes=schemes)


@pytest.mark.parametrize("entry", ["*.good.test", ".good.test", "http://good.test", "a/b", ""])
def test_allowed_hosts_entries_are_plain_hosts(entry: str) -> None:
    with pytest.raises(ValueError, match="allowed_hosts"):
        is_safe_url("/", allowed_hosts=[entry])


def test_allowed_hosts_as_a_bare_string_is_a_mistake() -> None:
    with pytest.raises(TypeError, match="collection"):
        is_safe_url("/", allowed_hosts="good.test")


def test_safe_redirect_target() -> None:
    assert safe_redirect_target(None) == "/"
    assert safe_redirect_target(None, default="/home") == "/home"
    assert safe_redirect_target("//evil.com", default="/home") == "/home"
    assert safe_redirect_target("/chat/c/1") == "/chat/c/1"
    with pytest.raises(ValueError, match="default"):
        safe_redirect_target("/x", default="//evil.com")


def test_login_url() -> None:
    assert login_url("/chat/c/42") == "/login?next=/chat/c/42"
    assert login_url("/a?b=c&d=e#f") == "/login?next=/a%3Fb%3Dc%26d%3De%23f"
    assert login_url("//evil.com") == "/login"
    assert login_url("https://good.test/") == "/login"  # only same-origin paths
    assert login_url("/login?next=/x") == "/login"  # no nesting on repeated bounces
    assert login_url("/chat", login_path="/auth/login") == "/auth/login?next=/chat"
    assert login_url("/chat", login_path="/auth?v=2") == "/auth?v=2&next=/chat"
    with pytest.raises(ValueError, match="login_path"):
        login_url("/chat", login_path="//evil.com/login")
    with pytest.raises(ValueError, match="login_path"):
        login_url("/chat", login_path="login")


# ---------------------------------------------------------------------------------------------
# Properties against ada, a WHATWG-compliant parser: what a browser does with a Location header.

FRAGMENTS = [
    "/", "//", "\\", "/\\", "http:", "https:", "HTTP:", "javascript:", "data:", "file:",
    "evil.com", "good.test", "portal.test", "@", ":", ":80", ":443", "%2F", "%2f", "%5C",
    "%252F", "%2e", "%2E", ".", "..", "?", "#", " ", "\t", "\n", "\r", "\x00", "\x0b", "\x0c",
    "\uff0f", "\uff3c", "\u3002", "\uff0e", "\uff45vil", "xn--", "[::1]", "0x7f.1", "a", "\u00e9",
    "\u00df", "\u200b", "\u2044", "\u2215", "%09", "%00", "%40", "%3A", "%EF%BC%8F", "\u3000",
]  # fmt: skip

hostile_urls = st.one_of(
    st.lists(st.sampled_from(FRAGMENTS), max_size=10).map("".join),
    st.text(alphabet=st.sampled_from("/\\:@.%?#2Fe5C \t\n\x00ahtps\uff0f"), max_size=20),
    st.text(max_size=30),
)


def _resolutions(url: str) -> list[ada_url.URL]:
    """Where a browser goes for ``url``, and for the forms a server might decode it into."""
    resolved = []
    for candidate in {url, unquote(url), unicodedata.normalize("NFKC", url)}:
        for base in BASES:
            try:
                resolved.append(ada_url.URL(candidate, base))
            except ValueError:
                continue  # the browser would not navigate at all
    return resolved


@settings(max_examples=3000, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_urls)
def test_accepted_urls_stay_on_origin(url: str) -> None:
    if not is_safe_url(url):
        return
    for resolved in _resolutions(url):
        assert resolved.protocol in ("http:", "https:")
        assert resolved.hostname == "portal.test"
        assert not resolved.pathname.startswith("//")
    for base in BASES:
        assert ada_url.URL(url, base).origin == ada_url.URL(base).origin


@settings(max_examples=3000, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_urls)
def test_accepted_urls_reach_only_allowed_hosts(url: str) -> None:
    if not is_safe_url(url, allowed_hosts=ALLOWED):
        return
    for resolved in _resolutions(url):
        assert resolved.protocol in ("http:", "https:")
        assert resolved.hostname in ("portal.test", "good.test")
        assert not resolved.pathname.startswith("//")


segment = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzABC0123456789-_~.é"), min_size=1
).filter(lambda s: s not in (".", ".."))
# Percent-escapes are drawn whole: a generated ``%11`` decodes to a control character, which is
# rejected on purpose.
query = st.lists(
    st.sampled_from(["a", "b", "1", "=", "&", "/", ":", "?", ".", "_", "%2F", "%20", "%3D", "%26"]),
    max_size=12,
).map("".join)
same_origin_paths = st.builds(
    lambda segments, q, trailing: "/" + "/".join(segments) + ("/" if trailing else "") + q,
    st.lists(segment, max_size=6),
    st.one_of(st.just(""), query.map(lambda q: "?" + q)),
    st.booleans(),
).filter(lambda p: not p.startswith("//"))


@given(same_origin_paths)
def test_plain_paths_are_accepted(path: str) -> None:
    assert is_safe_url(path)
    resolved = ada_url.URL(path, "http://portal.test/")
    assert resolved.origin == "http://portal.test"
    assert resolved.pathname == quote(urlsplit(path).path, safe="/-_~.")


@given(same_origin_paths)
def test_login_url_round_trips_next(path: str) -> None:
    built = login_url(path)
    assert parse_qs(urlsplit(built).query)["next"] == [path]
