"""One URL-safety check for every redirect the portal makes.

Login ``next=``, logout and redirects decided by Gradio event handlers all pass through
:func:`is_safe_url`, so that a hostile target is rejected in one place.

What is accepted:

* absolute paths on this origin: ``/chat/c/42``, ``/a?b=c#d``, ``/chat/``;
* absolute ``http``/``https`` URLs whose host is listed in ``allowed_hosts``.

What is rejected, by design:

* path-relative references (``page``, ``../x``), query-only (``?x``) and fragment-only (``#x``)
  references. They are same-origin, but where they land depends on the URL of the request that
  carries them (``next=chat`` sent to ``/auth/login`` means ``/auth/chat``); every target the
  portal produces starts with ``/``, so nothing legitimate is lost;
* paths that start with ``//`` after an authority, and ``.`` / ``..`` segments (also
  percent-encoded): ``/..//evil.com`` stays on this origin in a browser but normalises to the path
  ``//evil.com``, which the next redirect that echoes its path would send off-site;
* anything a browser, or a server that decodes once more, could read as another origin or as a
  script: scheme-relative ``//host`` in every spelling (backslashes, percent-encoding, fullwidth
  solidus), ``user@host``, ``http:host``, ``https:/host``, non-http schemes, control, format and
  non-ASCII space characters anywhere, a leading space.

The check runs on the input and on every string reachable from it by NFKC normalisation,
percent-decoding and backslash-to-slash replacement; the URL is safe only if every one of those
forms is. That covers double decoding and look-alike characters without modelling each parser.

Hosts are compared exactly after lower-casing and IDNA (A-label) normalisation: there are no
wildcards. An ``allowed_hosts`` entry ``"host"`` allows the scheme's default port only;
``"host:8443"`` allows that port.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Collection
from urllib.parse import quote, unquote

__all__ = ["MAX_URL_LENGTH", "is_safe_url", "login_url", "path_with_query", "safe_redirect_target"]

MAX_URL_LENGTH = 2048
"""Longer inputs are rejected before any parsing, so a hostile ``next=`` costs nothing."""

_DEFAULT_PORTS = {"http": 80, "https": 443}
# Only schemes whose URLs have an authority we can check; ``javascript://allowed/%0a...`` is why
# other schemes cannot be allowed even with a host check.
_SUPPORTED_SCHEMES = frozenset(_DEFAULT_PORTS)
# WHATWG scheme grammar: a browser reads ``x:...`` as an absolute URL whenever this matches.
_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_HOST_LABEL_RE = re.compile(r"[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?")
# WHATWG treats a host whose last label looks numeric as IPv4 (``0x7f.1`` is 127.0.0.1).
_NUMERIC_LABEL_RE = re.compile(r"(?:0[xX][0-9a-fA-F]*|[0-9]+)")
# Characters that UTS #46 (used by browsers) maps differently from IDNA 2003 (used by Python).
_IDNA_DEVIATIONS = frozenset("\u00df\u03c2\u200c\u200d")
# NFKC can expand and re-expose ``%``; past this many forms the input is hostile, not a URL.
_MAX_FORMS = 64


def is_safe_url(
    url: str,
    *,
    allowed_hosts: Collection[str] = (),
    allowed_schemes: Collection[str] = ("http", "https"),
) -> bool:
    """Return True if redirecting a browser to ``url`` keeps it on this portal or an allowed host.

    ``allowed_schemes`` applies to absolute URLs only and may name ``http`` and ``https``.

    >>> is_safe_url("/chat/c/42")
    True
    >>> is_safe_url("//evil.com/")
    False
    >>> is_safe_url("https://docs.example.com/x", allowed_hosts={"docs.example.com"})
    True
    """
    schemes = _normalize_schemes(allowed_schemes)
    hosts = _normalize_allowed_hosts(allowed_hosts)
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        return False
    forms = _forms(url)
    if forms is None:
        return False
    return all(_is_safe_form(form, hosts, schemes) for form in forms)


def safe_redirect_target(
    url: str | None,
    *,
    default: str = "/",
    allowed_hosts: Collection[str] = (),
    allowed_schemes: Collection[str] = ("http", "https"),
) -> str:
    """Return ``url`` if :func:`is_safe_url` accepts it, else ``default``.

    ``default`` must itself be safe: a misconfigured fallback raises ``ValueError`` at the first
    call instead of becoming the open redirect.

    >>> safe_redirect_target("https://evil.com/")
    '/'
    """
    if not is_safe_url(default, allowed_hosts=allowed_hosts, allowed_schemes=allowed_schemes):
        raise ValueError(
            f"default redirect target {default!r} is not a safe URL: use a path such as '/'"
        )
    if url is not None and is_safe_url(
        url, allowed_hosts=allowed_hosts, allowed_schemes=allowed_schemes
    ):
        return url
    return default


def path_with_query(path: str, query: str) -> str:
    """``path`` with ``?query`` when there is one: the page a request or a Referer names.

    >>> path_with_query("/chat/", "c=42"), path_with_query("/chat/", "")
    ('/chat/?c=42', '/chat/')
    """
    return f"{path}?{query}" if query else path


def login_url(next_path: str, *, login_path: str = "/login") -> str:
    """Build the login URL that returns to ``next_path`` after signing in.

    ``next_path`` is embedded only if it is a safe same-origin target that is not the login page
    itself (which would nest ``next=`` on every bounce); otherwise the bare login URL is returned.

    >>> login_url("/chat/c/42?tab=1")
    '/login?next=/chat/c/42%3Ftab%3D1'
    >>> login_url("//evil.com")
    '/login'
    """
    if not login_path.startswith("/") or "#" in login_path or not is_safe_url(login_path):
        raise ValueError(f"login_path {login_path!r} must be a safe absolute path such as '/login'")
    if not is_safe_url(next_path) or _path_of(next_path) == _path_of(login_path):
        return login_path
    separator = "&" if "?" in login_path else "?"
    # ``/`` stays readable; ``?&=#+%`` and non-ASCII are escaped so the value survives one decode.
    return f"{login_path}{separator}next={quote(next_path, safe='/')}"


def _normalize_schemes(allowed_schemes: Collection[str]) -> frozenset[str]:
    schemes = frozenset(s.lower() for s in allowed_schemes)
    unsupported = schemes - _SUPPORTED_SCHEMES
    if unsupported:
        raise ValueError(
            f"allowed_schemes may only contain 'http' and 'https', got {sorted(unsupported)}"
        )
    return schemes


def _normalize_allowed_hosts(allowed_hosts: Collection[str]) -> frozenset[tuple[str, int | None]]:
    """Turn ``host`` / ``host:port`` entries into (A-label host, port or None) pairs."""
    if isinstance(allowed_hosts, str):
        # A bare string is a Collection[str] of characters; that is always a caller mistake.
        raise TypeError("allowed_hosts must be a collection of host names, not a single string")
    normalized: set[tuple[str, int | None]] = set()
    for entry in allowed_hosts:
        parsed = _split_host_port(entry.strip())
        if parsed is None:
            raise ValueError(
                f"allowed_hosts entry {entry!r} is not a host name or host:port "
                "(no scheme, path or wildcard)"
            )
        host, port = parsed
        normalized.add((host, port))
    return frozenset(normalized)


def _forms(url: str) -> set[str] | None:
    """All strings reachable from ``url`` by NFKC, percent-decoding and ``\\`` -> ``/``."""
    forms = {url}
    frontier = [url]
    while frontier:
        current = frontier.pop()
        for derived in (
            unicodedata.normalize("NFKC", current),
            unquote(current),
            current.replace("\\", "/"),
        ):
            if derived not in forms:
                if len(forms) >= _MAX_FORMS or len(derived) > 32 * MAX_URL_LENGTH:
                    return None
                forms.add(derived)
                frontier.append(derived)
    return forms


def _is_forbidden_char(char: str) -> bool:
    if char == " ":
        return False
    # C*: controls (the WHATWG parser strips tab/LF/CR anywhere), format characters (bidi
    # overrides, zero-width joiners), surrogates, private use, unassigned. Z*: other spaces.
    return unicodedata.category(char)[0] in "CZ"


def _is_safe_form(
    form: str, hosts: frozenset[tuple[str, int | None]], schemes: frozenset[str]
) -> bool:
    # A leading space is stripped by browsers and would hide ``//`` or a scheme from the checks
    # below; a trailing one is stripped too but cannot change where the URL points.
    if not form or form[0] == " ":
        return False
    if any(_is_forbidden_char(char) for char in form):
        return False
    if form[0] == "/":
        return _path_is_safe(form)
    match = _SCHEME_RE.match(form)
    if match is None:
        return False  # path-relative, query-only or fragment-only: rejected by design
    scheme = form[: match.end() - 1].lower()
    if scheme not in schemes:
        return False
    rest = form[match.end() :]
    # Exactly two slashes: browsers skip any number of them (``https:/x``, ``https:///x``), and
    # ``http:x`` is relative or absolute depending on the base's scheme.
    if not rest.startswith("//") or rest[2:3] in ("", "/", "\\"):
        return False
    rest = rest[2:]
    # In the form that still has backslashes they are not terminators, so ``a\@b`` fails below.
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, tail = rest[:end], rest[end:]
    if "@" in authority:
        return False
    parsed = _split_host_port(authority)
    if parsed is None:
        return False
    host, port = parsed
    effective_port = _DEFAULT_PORTS[scheme] if port is None else port
    allowed = (host, effective_port) in hosts or (
        effective_port == _DEFAULT_PORTS[scheme] and (host, None) in hosts
    )
    return allowed and _path_is_safe(tail)


def _path_of(url: str) -> str:
    end = min((i for i in (url.find("?"), url.find("#")) if i >= 0), default=len(url))
    return url[:end]


def _path_is_safe(path_and_rest: str) -> bool:
    path = _path_of(path_and_rest)
    # Alone, ``//host`` and ``/\host`` are scheme-relative in every browser; after an authority
    # they are paths that the next hop's own redirect could turn into one.
    if path.startswith(("//", "/\\")):
        return False
    return not any(segment in (".", "..") for segment in path.split("/"))


def _split_host_port(authority: str) -> tuple[str, int | None] | None:
    """Split and normalise ``host[:port]``; None if a browser might read it differently."""
    if authority.startswith("["):
        close = authority.find("]")
        if close < 0:
            return None
        raw_host, after = authority[: close + 1], authority[close + 1 :]
        host = _normalize_ipv6(raw_host)
    else:
        raw_host, colon, port_text = authority.partition(":")
        after = colon + port_text
        host = _normalize_hostname(raw_host)
    if host is None:
        return None
    if not after:
        return host, None
    if after[0] != ":" or not after[1:].isascii() or not after[1:].isdigit():
        # An empty port (``host:``) is legal WHATWG but never something we produce.
        return None
    port = int(after[1:])
    return (host, port) if port <= 65535 else None


def _normalize_ipv6(bracketed: str) -> str | None:
    try:
        address = ipaddress.IPv6Address(bracketed[1:-1])
    except ValueError:
        return None
    return f"[{address.compressed}]"


def _normalize_hostname(host: str) -> str | None:
    if not host:
        return None
    if not host.isascii():
        if _IDNA_DEVIATIONS.intersection(host):
            # ``faß.de`` is ``fass.de`` to Python but ``xn--fa-hia.de`` to a browser.
            return None
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    host = host.lower()
    labels = host.split(".")
    if labels[-1] == "":
        labels = labels[:-1]  # a trailing dot keeps its place in the comparison below
    if not labels or not all(_HOST_LABEL_RE.fullmatch(label) for label in labels):
        return None
    if _NUMERIC_LABEL_RE.fullmatch(labels[-1]):
        # Only canonical dotted-quad IPv4; ``0x7f.1`` or ``2130706433`` would differ per parser.
        try:
            return host if str(ipaddress.IPv4Address(host)) == host else None
        except ValueError:
            return None
    return host
