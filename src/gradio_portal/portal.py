"""Portal: the composition root. It builds the services, adds the middleware, includes the
routers and mounts Gradio apps; it holds no behaviour of its own (docs/architecture.md)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import gradio as gr
from fastapi import FastAPI, Request
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.sessions import SessionMiddleware as StarletteSessionMiddleware
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from gradio_portal import compat
from gradio_portal._errors import ConfigurationError, SessionStoreError
from gradio_portal._logs import install_access_log_filter
from gradio_portal.auth import (
    AuthServices,
    CsrfProtection,
    Landing,
    LoginThrottle,
    OidcLogin,
    SetupTokens,
    build_account_router,
    build_admin_router,
    build_login_router,
    build_setup_router,
)
from gradio_portal.auth.access_tokens import build_access_tokens_router
from gradio_portal.auth.audit_page import build_audit_router
from gradio_portal.auth.csrf import CSRF_COOKIE
from gradio_portal.callbacks import CallbackAdapter
from gradio_portal.compat.blocks import gradio_app_blocks, takes_uploads
from gradio_portal.compat.mcp import bind_loopback_to_caller
from gradio_portal.mounts import (
    ApiDocs,
    CrossSiteGuard,
    EventOwners,
    GradioHeaders,
    GradioRoutes,
    GradioSessionBinding,
    MountGuard,
    MountPaths,
    SessionNames,
    UploadOwners,
    UploadOwnership,
)
from gradio_portal.navigation.browser import head_snippet
from gradio_portal.navigation.urls import login_url
from gradio_portal.observability import (
    MetricsAccess,
    PortalMetrics,
    RequestObserver,
    RouteTemplates,
    build_observability_router,
)
from gradio_portal.pages import Pages
from gradio_portal.pages.methods import answer_allowed_methods
from gradio_portal.sessions import (
    BearerSessions,
    Cookies,
    SessionManager,
    SessionMiddleware,
    SignIn,
    active_session,
    open_session_store,
    refused_access_token,
)
from gradio_portal.sessions.observed import ObservedSessionStore
from gradio_portal.settings import PortalSettings
from gradio_portal.storage import Database, upgrade
from gradio_portal.users import Accounts, SsoIdentities
from gradio_portal.users.accounts import normalize_groups
from gradio_portal.users.audit import AuditTrail, SecurityEvents
from gradio_portal.users.tokens import AccessTokens

__all__ = ["Portal"]

log = logging.getLogger("gradio_portal")
_STATE_KEY = "gradio_portal"


class Portal:
    """A FastAPI application with users, server-side sessions and login-guarded Gradio mounts.

    Example::

        portal = Portal()                     # settings from GRADIO_PORTAL_* variables
        portal.mount(demo, path="/app")       # demo: any gr.Blocks
        app = portal.app                      # serve with uvicorn

    Pass ``app=`` to add the portal to a FastAPI application you already have.

    Args:
        app: an existing FastAPI application; a new one is created when omitted.
        settings: the configuration; read from the environment when omitted.
        site_name: shown on the login pages.
        migrate: bring the database schema up to date now; by default as the setting
            ``auto_migrate`` says (turn it off when migrations run as a deployment step).

    Raises:
        ConfigurationError: settings that cannot work, or a Gradio release outside the range
            this version supports (the message names both).
    """

    def __init__(
        self,
        app: FastAPI | None = None,
        *,
        settings: PortalSettings | None = None,
        site_name: str = "gradio-portal",
        migrate: bool | None = None,
    ) -> None:
        compat.prepare()
        install_access_log_filter()
        self.settings = settings = settings or PortalSettings()
        secret = settings.resolve_secret_key()

        # -- services ----------------------------------------------------------------------
        self.metrics = PortalMetrics()
        """This portal's Prometheus registry (``/metrics``); add your own to its ``registry``."""
        self.database = Database(
            settings.resolved_database_url,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
        )
        self.metrics.watch_database(self.database.engine)
        if settings.auto_migrate if migrate is None else migrate:
            upgrade(settings.resolved_database_url)
        self.accounts = Accounts(self.database)
        self.tokens = AccessTokens(self.database)
        self.audit = AuditTrail(self.database, retention_days=settings.audit_retention_days)
        self.audit.prune()
        self.events = SecurityEvents(self.audit)
        self.sessions = SessionManager(
            ObservedSessionStore(
                open_session_store(settings, self.database),
                self.metrics,
                name="redis" if settings.redis_url else "sql",
            ),
            idle_timeout=settings.session_idle_timeout,
            absolute_timeout=settings.session_absolute_timeout,
            cache_ttl=self._session_cache_ttl(),
            max_per_user=settings.max_sessions_per_user,
        )
        self.cookies = Cookies(
            session_name=settings.session_cookie,
            session_max_age=settings.session_absolute_timeout,
            secure=settings.cookie_secure,
        )
        self.bearer = BearerSessions(self.tokens, self.sessions, secret)
        self.pages = Pages(site_name)
        self.mount_paths = MountPaths()
        self._restricted: dict[str, frozenset[str]] = {}
        self._titles: dict[str, str] = {}
        self.landing = Landing(self.mount_paths, login_path=settings.login_path)
        self.setup_tokens = SetupTokens(self.database, self.accounts)
        self.uploads = UploadOwners(self.database)
        self.callbacks = CallbackAdapter(
            allowed_hosts=settings.allowed_redirect_hosts,
            login_path=settings.login_path,
            metrics=self.metrics,
        )
        self.auth = AuthServices(
            settings=settings,
            pages=self.pages,
            csrf=CsrfProtection(secret),
            throttle=LoginThrottle(
                per_account=settings.login_attempts_per_account,
                per_address=settings.login_attempts_per_address,
                redis_url=settings.redis_url,
                key_prefix=settings.throttle_key_prefix,
            ),
            accounts=self.accounts,
            sessions=self.sessions,
            sign_in=SignIn(self.sessions, self.cookies),
            cookies=self.cookies,
            setup_tokens=self.setup_tokens,
            landing=self.landing,
            tokens=self.tokens,
            bearer=self.bearer,
            events=self.events,
        )
        self.oidc = OidcLogin.configured(
            self.auth, SsoIdentities(self.database, self.accounts), secret
        )

        # -- routes ------------------------------------------------------------------------
        owns_app = app is None
        # The API document answers signed-in users only; the interactive docs pages are off:
        # FastAPI's load their scripts from a CDN, which an offline or strict site cannot use.
        self.app = app or FastAPI(title=site_name, docs_url=None, redoc_url=None, openapi_url=None)
        self.app.include_router(build_login_router(self.auth, oidc=self.oidc, metrics=self.metrics))
        self.app.include_router(build_setup_router(self.auth))
        self.app.include_router(build_account_router(self.auth))
        self.app.include_router(build_access_tokens_router(self.auth))
        self.app.include_router(build_audit_router(self.auth))
        self.app.include_router(build_admin_router(self.auth))
        if self.oidc is not None:
            self.app.include_router(self.oidc.router())
        self.app.add_api_route("/healthz", self._health, methods=["GET"], include_in_schema=False)
        if owns_app:
            # With several apps, "/" lists those the user may open.
            self.landing.apps_page = "/"
            self.app.add_api_route("/", self._root, methods=["GET"], include_in_schema=False)
            self.app.add_api_route(
                "/openapi.json", self._openapi, methods=["GET"], include_in_schema=False
            )
        self.app.add_exception_handler(SessionStoreError, self._unavailable)
        self.app.add_exception_handler(OperationalError, self._unavailable)

        # -- middleware: added innermost first, so a request meets them in reverse order ----
        # The mount hardening only sees signed-in requests: the guard (added later) runs first.
        self.app.add_middleware(ApiDocs, mount_paths=self.mount_paths)
        self.app.add_middleware(UploadOwnership, mount_paths=self.mount_paths, owners=self.uploads)
        self.app.add_middleware(
            GradioSessionBinding,
            mount_paths=self.mount_paths,
            names=SessionNames(secret),
            events=EventOwners(),
            portal_cookies=(settings.session_cookie, CSRF_COOKIE),
            # Kept while the SSE stream is open (forgotten when it closes), however long.
            mcp_sessions=EventOwners(ttl=float("inf")),
        )
        self.app.add_middleware(CrossSiteGuard, mount_paths=self.mount_paths)
        self.app.add_middleware(GradioHeaders, mount_paths=self.mount_paths)
        if not any(getattr(m, "cls", None) is CORSMiddleware for m in self.app.user_middleware):
            # Gradio echoes any Origin, with credentials, unless the host app configures CORS.
            self.app.add_middleware(CORSMiddleware, allow_origins=())
        self.app.add_middleware(
            GradioRoutes,
            mount_paths=self.mount_paths,
            sign_in=self.auth.sign_in,
            accounts=self.accounts,
            login_path=settings.login_path,
        )
        self.app.add_middleware(
            MountGuard,
            mount_paths=self.mount_paths,
            login_path=settings.login_path,
            no_access=self._refuse_access,
        )
        # Gradio apps mounted with gr.mount_gradio_app are guarded when the application builds
        # its middleware stack, that is before it serves its first request (or lifespan event).
        build_middleware_stack = self.app.build_middleware_stack

        def build_guarded_stack() -> ASGIApp:
            self._adopt_gradio_mounts()
            return build_middleware_stack()

        self.app.build_middleware_stack = build_guarded_stack  # type: ignore[method-assign]
        setattr(self.app.state, _STATE_KEY, self)
        # Everything after it reads the session it resolves.
        self.app.add_middleware(
            SessionMiddleware,
            manager=self.sessions,
            cookies=self.cookies,
            unavailable=self.pages.unavailable_app,
            bearer=self.bearer,
            refused_token=refused_access_token,
        )

        # -- observability (docs/operations.md) --------------------------------------------
        self.app.include_router(
            build_observability_router(self.metrics, MetricsAccess.from_settings(settings))
        )
        answer_allowed_methods(self.app)
        # Outermost: every log line of a request carries its id, and its time is all counted.
        self.app.add_middleware(
            RequestObserver, metrics=self.metrics, routes=RouteTemplates(self.app)
        )

    @classmethod
    def of(cls, app: FastAPI) -> Portal | None:
        """The portal added to ``app``, if any (``gradio-portal serve module:app`` uses it)."""
        found = getattr(app.state, _STATE_KEY, None)
        return found if isinstance(found, Portal) else None

    # -- mounting ---------------------------------------------------------------------------

    def mount(
        self,
        blocks: gr.Blocks,
        path: str,
        *,
        groups: Iterable[str] | None = None,
        **mount_options: Any,
    ) -> gr.Blocks:
        """Mount ``blocks`` at ``path`` behind login.

        Every request under ``path`` needs a session (static assets aside). With ``groups``
        (``groups=["analysts"]``), only members of those groups, and administrators, open it;
        other signed-in users get a 403 page saying to ask an administrator. Handlers get a
        :class:`~gradio_portal.Context` for any parameter annotated with it, and may raise or
        return a :class:`~gradio_portal.Redirect`. ``mount_options`` go to
        ``gr.mount_gradio_app`` (``css``, ``theme``, ``head``, ``max_file_size``, ...); by
        default each uploaded file may be at most ``settings.max_upload_bytes``, an app
        without a file input takes no uploads, and Gradio's run history (which keeps every
        input and output in the browser, past sign-out) is off unless ``settings.run_history``.
        """
        clean = "/" + path.strip("/")
        if clean == "/":
            raise ConfigurationError(
                "mount Gradio apps under a sub-path such as '/app': the portal serves "
                "/login, /logout and /healthz at the root"
            )
        if clean in self.mount_paths:
            raise ConfigurationError(f"something is already mounted at {clean!r}")
        for option in ("auth", "auth_dependency"):
            if option in mount_options:
                raise ConfigurationError(
                    f"{option}= cannot be combined with Portal.mount: the portal signs users in"
                )
        mount_options.setdefault("ssr_mode", False)
        mount_options.setdefault("max_file_size", self.settings.max_upload_bytes)
        mount_options.setdefault("run_history", self.settings.run_history)
        head = mount_options.pop("head", None) or ""
        if groups is not None:
            self.restrict(clean, groups)
        gr.mount_gradio_app(
            self.app, blocks, clean, auth_dependency=_gradio_username, head=head, **mount_options
        )
        self._guard(clean, blocks)
        return blocks

    def restrict(self, path: str, groups: Iterable[str]) -> None:
        """Open the app at ``path`` to members of ``groups`` (and administrators) only.

        For apps mounted with ``gr.mount_gradio_app``: call it before the application starts.
        ``Portal.mount(..., groups=[...])`` calls it for you.
        """
        clean = "/" + path.strip("/")
        if clean in self.mount_paths:
            raise ConfigurationError(
                f"the app at {clean!r} is already guarded: restrict it before it is mounted "
                "(Portal.mount(..., groups=[...]))"
            )
        names = normalize_groups(groups)
        if not names:
            raise ConfigurationError(
                f"no group given for {clean!r}: name at least one, or omit groups to open the "
                "app to every signed-in user"
            )
        self._restricted[clean] = frozenset(names)

    def _guard(self, path: str, blocks: gr.Blocks) -> None:
        """Put a mounted Blocks behind the portal: adapted callbacks, the browser script, the
        guard and the hardening of its path."""
        self.callbacks.adapt(blocks, app=path)
        hosts = self.settings.allowed_redirect_hosts
        head = head_snippet(
            login_url=self.settings.login_path,
            allowed_origins=[
                f"{scheme}://{host}" for host in hosts for scheme in ("https", "http")
            ],
        ) + (blocks.head or "")
        # Mounting copied the head into the configuration Gradio sends to browsers.
        blocks.head = head  # type: ignore[assignment]
        blocks.config["head"] = head
        self.mount_paths.add(path, uploads=takes_uploads(blocks), groups=self._restricted.get(path))
        title = blocks.title if isinstance(blocks.title, str) else ""
        self._titles[path] = "" if title == "Gradio" else title
        bind_loopback_to_caller(blocks, self._caller_credentials)

    def _caller_credentials(self, request: Request) -> tuple[tuple[str, str], ...]:
        """What signs a caller's MCP tool call back in when Gradio runs it over HTTP.

        The session's token comes from the request's validated session: the portal keeps its
        cookies out of the headers Gradio sees.
        """
        active = active_session(request)
        found = [("cookie", f"{self.settings.session_cookie}={active.token}")] if active else []
        if "authorization" in request.headers:
            found.append(("authorization", request.headers["authorization"]))
        return tuple(found)

    def _adopt_gradio_mounts(self) -> None:
        """Guard the Gradio apps mounted on the application with ``gr.mount_gradio_app``.

        Runs when the application builds its middleware (before it serves anything), so apps
        mounted before or after ``Portal(app)`` are covered; one the portal cannot take over
        stops the start with what to change. Also refuses Starlette's ``SessionMiddleware``,
        which would replace the portal's session in every request.
        """
        for middleware in self.app.user_middleware:
            if getattr(middleware, "cls", None) is StarletteSessionMiddleware:
                raise ConfigurationError(
                    "Starlette's SessionMiddleware is added to this application: it would "
                    "replace the portal's session in every request, so callbacks would not see "
                    "who is signed in. Remove `app.add_middleware(SessionMiddleware, ...)`: "
                    "with the portal, `request.session` (and `request.request.session` in a "
                    "Gradio callback) is the portal's server-side session, with 'username'."
                )
        for route in self.app.routes:
            blocks = gradio_app_blocks(getattr(route, "app", None))
            path = getattr(route, "path", "")
            if blocks is None or path in self.mount_paths:
                continue
            gradio_app = route.app  # type: ignore[attr-defined]
            where = f"the Gradio app mounted at {path or '/'!r}"
            if not path:
                raise ConfigurationError(
                    f"{where} covers the whole site: mount it under a sub-path such as '/app'"
                )
            if blocks.auth:
                raise ConfigurationError(
                    f"{where} has Gradio's own login (auth=): remove auth= from "
                    "gr.mount_gradio_app; the portal signs users in"
                )
            if gradio_app.auth_dependency not in (None, _gradio_username):
                raise ConfigurationError(
                    f"{where} has its own auth_dependency=: remove it from gr.mount_gradio_app; "
                    "the portal decides who is signed in"
                )
            gradio_app.auth_dependency = _gradio_username
            blocks.run_history = bool(blocks.run_history) and self.settings.run_history
            footer: list[Any] = list(blocks.footer_links)
            if not blocks.run_history:
                footer = [link for link in footer if link != "runs"]
            blocks.footer_links = footer
            if blocks.max_file_size is None:
                blocks.max_file_size = self.settings.max_upload_bytes
            # Mounting already wrote these into the configuration Gradio sends to browsers.
            blocks.config["run_history"] = blocks.run_history
            blocks.config["footer_links"] = footer
            blocks.config["max_file_size"] = blocks.max_file_size
            self._guard(path, blocks)
            log.info("guarding %s mounted with gr.mount_gradio_app", where)

    @property
    def home_path(self) -> str:
        """Where a user lands after signing in without a ``next=``: the first mount."""
        return self.landing.home

    @home_path.setter
    def home_path(self, value: str) -> None:
        self.landing.home = value

    def setup_link(self, base_url: str) -> str | None:
        """A one-time link that creates the first administrator, or None when users exist."""
        return self.setup_tokens.link(base_url)

    # -- plumbing ---------------------------------------------------------------------------

    def _session_cache_ttl(self) -> float:
        if self.settings.session_cache_ttl is not None:
            return self.settings.session_cache_ttl
        one_process = self.database.is_sqlite and not self.settings.redis_url
        return 1.0 if one_process else 0.0

    async def _refuse_access(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A signed-in user outside an app's groups: recorded, then the 403 answer."""
        request = Request(scope)
        active = active_session(request)
        await self.events.emit(
            "access.refused",
            request,
            user=active.user.username if active is not None else None,
            app=self.mount_paths.mount_of(scope["path"]) or "",
        )
        await self.pages.no_access_app(scope, receive, send)

    async def _root(self, request: Request) -> Response:
        """The home page: the one app, or with several the list of those this user opens."""
        if self.landing.home != "/":
            return RedirectResponse(self.landing.home)
        active = active_session(request)
        if active is None:
            return RedirectResponse(login_url("/", login_path=self.settings.login_path))
        apps = [
            {"path": path + "/", "title": self._titles.get(path) or path.strip("/")}
            for path in self.mount_paths
            if self.mount_paths.open_to(path, active.user)
        ]
        response = self.pages.render("apps.html", title="Your apps", user=active.user, apps=apps)
        response.headers["cache-control"] = "no-store"
        return response

    async def _openapi(self, request: Request) -> Response:
        if active_session(request) is None:
            return JSONResponse(
                {"detail": f"Sign in at {self.settings.login_path} to read the API document."},
                status_code=401,
            )
        return JSONResponse(self.app.openapi(), headers={"cache-control": "no-store"})

    async def _health(self) -> Response:
        checks: dict[str, str] = {}
        healthy = True
        for name, probe in (
            ("database", self.database.ping),
            ("sessions", self.sessions.store.ping),
        ):
            try:
                await run_in_threadpool(probe)
                checks[name] = "ok"
            except Exception as exc:  # a readiness probe reports every failure the same way
                log.warning("health check %s failed: %s", name, exc)
                checks[name] = "unavailable"
                healthy = False
        return JSONResponse(
            {"status": "ok" if healthy else "unavailable", **checks},
            status_code=200 if healthy else 503,
        )

    async def _unavailable(self, request: Request, exc: Exception) -> Response:
        log.warning("dependency unavailable: %s", exc)
        return self.pages.unavailable(request.headers.get("accept", ""))


def _gradio_username(request: Request) -> str | None:
    """Gradio's ``auth_dependency``: the signed-in user's name (the guard already checked)."""
    active = active_session(request)
    return active.user.username if active is not None else None
