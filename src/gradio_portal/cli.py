"""The ``gradio-portal`` command: serve, users, tokens, audit, db. Process concerns only; the
rest is settings."""

from __future__ import annotations

import argparse
import getpass
import importlib
import os
import sys
import unicodedata
from collections.abc import Sequence
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import datetime

    import gradio as gr
    from fastapi import FastAPI

    from gradio_portal.portal import Portal
    from gradio_portal.sessions import SessionManager
    from gradio_portal.storage import Database
    from gradio_portal.users.accounts import Accounts
    from gradio_portal.users.audit import AuditTrail

__all__ = ["main"]

DEFAULT_PATH = "/app"

# What `serve --reload` hands to the process uvicorn's reloader starts (and restarts).
_RELOAD_TARGET = "_GRADIO_PORTAL_RELOAD_TARGET"
_RELOAD_PATH = "_GRADIO_PORTAL_RELOAD_PATH"
_RELOAD_BASE_URL = "_GRADIO_PORTAL_RELOAD_BASE_URL"
_RELOAD_GROUPS = "_GRADIO_PORTAL_RELOAD_GROUPS"


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    if getattr(args, "reload", False) and args.processes > 1:
        parser.error(
            "--reload restarts one process when the code changes; it cannot run "
            f"--processes {args.processes}: drop one of the two (--reload is for development)"
        )
    from gradio_portal._errors import PortalError

    try:
        return int(args.run(args) or 0)
    except PortalError as exc:
        print(f"gradio-portal: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gradio-portal",
        description="Serve Gradio apps behind users, sessions and navigation. Configuration "
        "comes from GRADIO_PORTAL_* environment variables.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {version('gradio-portal')}"
    )
    commands = parser.add_subparsers(title="commands")

    serve = commands.add_parser(
        "serve", help="run the portal (the chat app, your Blocks or your FastAPI app)"
    )
    serve.add_argument(
        "target",
        nargs="?",
        help="MODULE:ATTRIBUTE of a gr.Blocks to serve behind login at --path, or of a FastAPI "
        "application whose gr.mount_gradio_app mounts are then guarded (or a function "
        "returning either); the built-in chat app (at /chat) when omitted",
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--path", default=None, help=f"mount path of TARGET (default {DEFAULT_PATH})"
    )
    serve.add_argument("--root-path", default="", help="URL prefix added by a reverse proxy")
    serve.add_argument(
        "--processes",
        type=int,
        default=1,
        help="run N single-worker processes on ports PORT..PORT+N-1, restarted when they die "
        "(put nginx with cookie affinity in front: deploy/nginx.conf.template)",
    )
    serve.add_argument(
        "--forwarded-allow-ips",
        default="127.0.0.1",
        help="proxies trusted for X-Forwarded-* headers",
    )
    serve.add_argument(
        "--reload",
        action="store_true",
        help="development: restart when a .py file under the working directory changes "
        "(one process; not with --processes)",
    )
    serve.add_argument(
        "--group",
        action="append",
        default=[],
        dest="groups",
        metavar="GROUP",
        help="open TARGET (a Blocks) to members of GROUP only, and administrators "
        "(repeatable; default: every signed-in user)",
    )
    serve.set_defaults(run=_serve)

    users = commands.add_parser("users", help="manage user accounts").add_subparsers(title="users")
    add = users.add_parser("add", help="create a user")
    add.add_argument("name")
    add.add_argument("--display-name")
    add.add_argument("--admin", action="store_true", help="give the admin role")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.add_argument(
        "--group",
        action="append",
        default=[],
        dest="groups",
        metavar="GROUP",
        help="make the user a member of GROUP (repeatable)",
    )
    add.set_defaults(run=_users_add)
    groups = users.add_parser(
        "groups",
        help="show a user's groups, or change them (their sessions then end, so it applies now)",
    )
    groups.add_argument("name")
    groups.add_argument("set", nargs="*", metavar="GROUP", help="the user's groups, all of them")
    groups.add_argument("--add", action="append", default=[], metavar="GROUP")
    groups.add_argument("--remove", action="append", default=[], metavar="GROUP")
    groups.add_argument("--none", action="store_true", help="remove the user from every group")
    groups.set_defaults(run=_users_groups)
    users.add_parser("list", help="list users").set_defaults(run=_users_list)
    disable = users.add_parser("disable", help="disable a user and end their sessions")
    disable.add_argument("name")
    disable.set_defaults(run=_users_disable)
    enable = users.add_parser("enable", help="enable a disabled user")
    enable.add_argument("name")
    enable.set_defaults(run=_users_enable)
    password = users.add_parser("set-password", help="set a user's password and end their sessions")
    password.add_argument("name")
    password.add_argument("--password-stdin", action="store_true")
    password.set_defaults(run=_users_set_password)

    link = users.add_parser(
        "link-sso", help="let NAME sign in through single sign-on as SUBJECT (the 'sub' claim)"
    )
    link.add_argument("name")
    link.add_argument("subject")
    link.set_defaults(run=_users_link_sso)

    tokens = commands.add_parser(
        "tokens", help="personal access tokens (scripts, notebooks, MCP clients)"
    ).add_subparsers(title="tokens")
    create = tokens.add_parser(
        "create", help="make a token for NAME; the token alone is the last line printed"
    )
    create.add_argument("name")
    create.add_argument("--label", default="", help="what the token is for")
    create.add_argument("--expires-days", type=int, default=None, metavar="N")
    create.set_defaults(run=_tokens_create)
    listing = tokens.add_parser("list", help="list tokens (of NAME, or everyone's)")
    listing.add_argument("name", nargs="?")
    listing.set_defaults(run=_tokens_list)
    revoke = tokens.add_parser("revoke", help="revoke the token with this ID (see `tokens list`)")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(run=_tokens_revoke)

    audit = commands.add_parser(
        "audit", help="print the audit trail (security events), oldest first, newest last"
    )
    audit.add_argument("--limit", type=int, default=50, metavar="N", help="the last N events")
    audit.add_argument("--user", default=None, help="events by or concerning this user")
    audit.add_argument("--event", default=None, help="one kind of event, e.g. sign_in.failed")
    audit.set_defaults(run=_audit)

    db = commands.add_parser("db", help="database schema").add_subparsers(title="db")
    db.add_parser("upgrade", help="migrate to the latest schema").set_defaults(run=_db_upgrade)
    down = db.add_parser("downgrade", help="migrate down to REVISION")
    down.add_argument("revision", nargs="?", default="-1")
    down.set_defaults(run=_db_downgrade)
    return parser


# -- serve ------------------------------------------------------------------------------------


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from gradio_portal.observability import configure_logging
    from gradio_portal.settings import PortalSettings

    log_config = configure_logging(PortalSettings())
    if args.processes > 1:
        from gradio_portal.supervisor import run_processes

        return run_processes(
            args.processes,
            args.port,
            args.target,
            host=args.host,
            path=args.path,
            root_path=args.root_path,
            forwarded_allow_ips=args.forwarded_allow_ips,
            groups=args.groups,
        )
    base_url = f"http://{_display_host(args.host)}:{args.port}"
    options: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "root_path": args.root_path,
        "proxy_headers": True,
        "forwarded_allow_ips": args.forwarded_allow_ips,
        "log_level": "info",
        "log_config": log_config,
        "timeout_graceful_shutdown": 5,
        # A portal that cannot start (say, a Gradio mount it cannot guard) stops the server.
        "lifespan": "on",
    }
    if args.reload:
        # The reloader runs the app in a child process it restarts on every change, so the
        # child builds the portal itself, from an import string and these variables.
        os.environ[_RELOAD_TARGET] = args.target or ""
        os.environ[_RELOAD_PATH] = args.path or ""
        os.environ[_RELOAD_BASE_URL] = base_url + args.root_path
        os.environ[_RELOAD_GROUPS] = ",".join(args.groups)
        print(
            f"gradio-portal: restarting whenever a .py file under {os.getcwd()} changes",
            flush=True,
        )
        uvicorn.run(
            "gradio_portal.cli:_reloaded_app",
            factory=True,
            reload=True,
            reload_dirs=[os.getcwd()],
            **options,
        )
        return 0
    app = _started_app(args.target, args.path, base_url + args.root_path, args.groups)
    uvicorn.run(app, **options)
    return 0


def _started_app(
    target: str | None, path: str | None, base_url: str, groups: Sequence[str] = ()
) -> FastAPI:
    """The application ``serve`` runs, with the first-run link printed when no user exists."""
    from gradio_portal._runtime import tune_garbage_collector

    portal = build_portal(target, path=path, groups=groups)
    tune_garbage_collector()
    link = portal.setup_link(base_url)
    print(f"gradio-portal: serving on {base_url}", flush=True)
    if link:
        print(
            "gradio-portal: no user exists yet. Open this one-time link to create the "
            f"administrator:\n\n    {link}\n",
            flush=True,
        )
    return portal.app


def _reloaded_app() -> FastAPI:
    """``serve --reload``: the factory uvicorn's reloaded process calls."""
    return _started_app(
        os.environ.get(_RELOAD_TARGET) or None,
        os.environ.get(_RELOAD_PATH) or None,
        os.environ[_RELOAD_BASE_URL],
        [g for g in os.environ.get(_RELOAD_GROUPS, "").split(",") if g],
    )


def build_portal(
    target: str | None, *, path: str | None = None, groups: Sequence[str] = ()
) -> Portal:
    """The portal ``serve`` runs: TARGET (a Blocks, or a FastAPI application whose Gradio
    mounts the portal guards), or the built-in chat app; with ``groups``, the app is open to
    their members (and administrators) only."""
    from fastapi import FastAPI

    from gradio_portal._errors import ConfigurationError
    from gradio_portal.portal import Portal

    if target is None:
        from gradio_portal.chat import mount_chat

        portal = Portal()
        if groups:
            portal.restrict(path or "/chat", groups)
        mount_chat(portal, path or "/chat")
        return portal
    loaded = _load_target(target)
    if isinstance(loaded, FastAPI):
        if groups:
            raise ConfigurationError(
                "--group applies to a Blocks TARGET: in a FastAPI application, call "
                "portal.restrict(path, groups) for each gr.mount_gradio_app mount"
            )
        # Its own Portal(app) if it made one; the portal guards its gr.mount_gradio_app mounts.
        return Portal.of(loaded) or Portal(loaded)
    portal = Portal()
    portal.mount(loaded, path or DEFAULT_PATH, groups=list(groups) or None)
    return portal


def _load_target(target: str) -> gr.Blocks | FastAPI:
    import gradio as gr
    from fastapi import FastAPI

    from gradio_portal._errors import ConfigurationError

    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise ConfigurationError(f"serve takes MODULE:ATTRIBUTE, e.g. 'myapp:demo', not {target!r}")
    sys.path.insert(0, ".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigurationError(f"cannot import {module_name!r}: {exc}") from exc
    value = getattr(module, attribute, None)
    if callable(value) and not isinstance(value, gr.Blocks | FastAPI):
        value = value()
    if not isinstance(value, gr.Blocks | FastAPI):
        raise ConfigurationError(
            f"{target} is {type(value).__name__}, not a gr.Blocks or a FastAPI application "
            "(or a function returning one)"
        )
    return value


def _display_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "") else host


# -- users --------------------------------------------------------------------------------


def _services() -> tuple[Accounts, SessionManager]:
    from gradio_portal.sessions import SessionManager, open_session_store
    from gradio_portal.settings import PortalSettings
    from gradio_portal.storage import Database, upgrade
    from gradio_portal.users.accounts import Accounts

    settings = PortalSettings()
    upgrade(settings.resolved_database_url)
    database = Database(settings.resolved_database_url)
    sessions = SessionManager(
        open_session_store(settings, database),
        idle_timeout=settings.session_idle_timeout,
        absolute_timeout=settings.session_absolute_timeout,
    )
    return Accounts(database), sessions


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat: "):
        from gradio_portal._errors import UserError

        raise UserError("the two passwords differ")
    return first


def _users_add(args: argparse.Namespace) -> int:
    users, _ = _services()
    password = _read_password(args.password_stdin)
    user = users.create(
        args.name,
        password,
        display_name=args.display_name,
        roles=("admin",) if args.admin else (),
        groups=args.groups,
    )
    member = f", member of {', '.join(user.groups)}" if user.groups else ""
    print(f"created user {user.username!r} (id {user.id}{member})")
    _audit_trail().record_quietly(
        "admin.user_created", username=_operator(), target=user.username, address="local"
    )
    return 0


def _users_groups(args: argparse.Namespace) -> int:
    from gradio_portal._errors import UserError

    users, sessions = _services()
    account = users.get(args.name)
    if account is None:
        raise UserError(f"no user named {args.name!r}; `gradio-portal users list` shows them")
    if not (args.set or args.add or args.remove or args.none):
        print(", ".join(account.user.groups) or "(no groups)")
        return 0
    if args.none and (args.set or args.add):
        raise UserError("--none removes every group: give no GROUP and no --add with it")
    current = set() if args.none else set(args.set or account.user.groups)
    wanted = (current | set(args.add)) - set(args.remove)
    user, changed = users.set_groups(account.user.username, sorted(wanted))
    if not changed:
        print(f"{user.username!r} is in {', '.join(user.groups) or 'no group'} already")
        return 0
    ended = sessions.end_all(user.id)
    _audit_trail().record_quietly(
        "admin.groups_changed",
        username=_operator(),
        target=user.username,
        address="local",
        details={"groups": ",".join(user.groups)},
    )
    print(
        f"{user.username!r} is now in {', '.join(user.groups) or 'no group'}; "
        f"ended {ended} session(s), so the change applies now"
    )
    return 0


def _users_list(args: argparse.Namespace) -> int:
    users, _ = _services()
    accounts = users.list()
    if not accounts:
        print("no users yet: `gradio-portal users add NAME --admin --password-stdin` creates one")
        return 0
    rows = [("ID", "NAME", "DISPLAY NAME", "ADMIN", "STATUS", "PASSWORD", "ROLES", "GROUPS")]
    for account in accounts:
        user = account.user
        rows.append(
            (
                str(user.id),
                _printable(user.username),
                _printable(user.display_name),
                "yes" if "admin" in user.roles else "no",
                "active" if account.is_active else "disabled",
                "set" if account.has_password else "none (single sign-on only)",
                ",".join(_printable(role) for role in user.roles) or "-",
                ",".join(user.groups) or "-",
            )
        )
    print(_table(rows))
    return 0


def _table(rows: Sequence[Sequence[str]]) -> str:
    """``rows`` (the first is the header) in columns two spaces apart; the first column, a
    number, aligned right."""
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [" " * (widths[0] - _width(row[0])) + row[0]]
        cells += [
            cell + " " * (width - _width(cell))
            for cell, width in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _width(text: str) -> int:
    """Columns ``text`` takes in a terminal: wide (CJK) characters two, combining marks none."""
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1
        for c in text
    )


def _printable(text: str) -> str:
    """``text`` with control and format characters escaped: names written before they were
    refused on entry must not drive the administrator's terminal."""
    return "".join(
        c if not unicodedata.category(c).startswith("C") else c.encode("unicode_escape").decode()
        for c in text
    )


def _users_disable(args: argparse.Namespace) -> int:
    users, sessions = _services()
    user = users.set_active(args.name, False)
    ended = sessions.end_all(user.id)
    print(f"disabled {user.username!r}; ended {ended} session(s)")
    return 0


def _users_enable(args: argparse.Namespace) -> int:
    users, _ = _services()
    user = users.set_active(args.name, True)
    print(f"enabled {user.username!r}")
    return 0


def _users_set_password(args: argparse.Namespace) -> int:
    users, sessions = _services()
    user = users.set_password(args.name, _read_password(args.password_stdin))
    ended = sessions.end_all(user.id)
    print(f"password of {user.username!r} changed; ended {ended} session(s)")
    return 0


def _users_link_sso(args: argparse.Namespace) -> int:
    from gradio_portal._errors import ConfigurationError, UserError
    from gradio_portal.settings import PortalSettings
    from gradio_portal.users.sso import SsoIdentities

    settings = PortalSettings()
    if not settings.oidc_issuer:
        raise ConfigurationError("set GRADIO_PORTAL_OIDC_ISSUER first: links are per issuer")
    users, _ = _services()
    account = users.get(args.name)
    if account is None:
        raise UserError(f"no user named {args.name!r}; `gradio-portal users list` shows them")
    SsoIdentities(users.database, users).link(account.user.id, settings.oidc_issuer, args.subject)
    print(f"{account.user.username!r} now signs in as {args.subject!r} at {settings.oidc_issuer}")
    return 0


# -- db -----------------------------------------------------------------------------------


# -- tokens and the audit trail ------------------------------------------------------------


def _database() -> Database:
    from gradio_portal.settings import PortalSettings
    from gradio_portal.storage import Database, upgrade

    settings = PortalSettings()
    upgrade(settings.resolved_database_url)
    return Database(settings.resolved_database_url)


def _audit_trail() -> AuditTrail:
    from gradio_portal.settings import PortalSettings
    from gradio_portal.users.audit import AuditTrail

    retention = PortalSettings().audit_retention_days
    return AuditTrail(_database(), retention_days=retention)


def _operator() -> str:
    """Who runs the command, as the audit trail names them."""
    try:
        return "cli:" + getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment is not None else "-"


def _tokens_create(args: argparse.Namespace) -> int:
    from gradio_portal.users.tokens import AccessTokens

    secret, token = AccessTokens(_database()).create(
        args.name, label=args.label, expires_days=args.expires_days
    )
    _audit_trail().record_quietly(
        "token.created",
        username=_operator(),
        target=token.username,
        address="local",
        details={"token": token.shown, "label": token.label},
    )
    expiry = f"expires {_when(token.expires_at)} UTC" if token.expires_at else "never expires"
    print(f"token {token.id} for {token.username!r} ({token.label or 'no label'}), {expiry}.")
    print("Send it as `Authorization: Bearer <token>`. It is shown only now:")
    print(secret)
    return 0


def _tokens_list(args: argparse.Namespace) -> int:
    from gradio_portal.users.tokens import AccessTokens

    tokens = AccessTokens(_database()).list(args.name)
    if not tokens:
        print("no tokens: `gradio-portal tokens create NAME` makes one")
        return 0
    rows = [("ID", "USER", "LABEL", "TOKEN", "CREATED", "LAST USED", "EXPIRES", "STATE")]
    for token in tokens:
        rows.append(
            (
                str(token.id),
                _printable(token.username),
                _printable(token.label) or "-",
                token.shown,
                _when(token.created_at),
                _when(token.last_used_at),
                _when(token.expires_at),
                token.state(),
            )
        )
    print(_table(rows))
    return 0


def _tokens_revoke(args: argparse.Namespace) -> int:
    from gradio_portal.users.tokens import AccessTokens

    token = AccessTokens(_database()).revoke(args.id)
    _audit_trail().record_quietly(
        "token.revoked",
        username=_operator(),
        target=token.username,
        address="local",
        details={"token": token.shown},
    )
    print(f"revoked token {token.id} ({token.shown}) of {token.username!r}")
    return 0


def _audit(args: argparse.Namespace) -> int:
    trail = _audit_trail()
    pruned = trail.prune()
    events = trail.list(limit=args.limit, username=args.user, event=args.event)
    if pruned:
        print(f"(pruned {pruned} event(s) older than {trail.retention_days} days)")
    if not events:
        print("no events")
    for event in reversed(events):
        print(_printable(event.line()))
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    from gradio_portal.settings import PortalSettings
    from gradio_portal.storage.database import redacted_url
    from gradio_portal.storage.migrate import (
        current_revision,
        head_revision,
        pending_revisions,
        upgrade,
    )

    url = PortalSettings().resolved_database_url
    shown, current, head = redacted_url(url), current_revision(url), head_revision()
    steps = pending_revisions(current)
    if not steps:
        print(f"Database {shown} is at the latest revision, {head}: nothing to do.")
        return 0
    print(
        f"Upgrading database {shown} from revision {_revision(current)} to {head} "
        f"({len(steps)} migration{'s' if len(steps) > 1 else ''}: {', '.join(steps)})...",
        flush=True,
    )
    upgrade(url)
    print(f"Database {shown} is now at revision {_revision(current_revision(url))}.")
    return 0


def _db_downgrade(args: argparse.Namespace) -> int:
    from gradio_portal.settings import PortalSettings
    from gradio_portal.storage.database import redacted_url
    from gradio_portal.storage.migrate import current_revision, downgrade

    url = PortalSettings().resolved_database_url
    shown, current = redacted_url(url), current_revision(url)
    if current is None:
        print(f"Database {shown} has no schema: nothing to downgrade.")
        return 0
    target = "one revision down" if args.revision == "-1" else f"revision {args.revision}"
    print(
        f"Downgrading database {shown} from revision {current} to {target}...",
        flush=True,
    )
    downgrade(url, args.revision)
    print(f"Database {shown} is now at revision {_revision(current_revision(url))}.")
    return 0


def _revision(revision: str | None) -> str:
    return revision if revision is not None else "none (no schema)"
