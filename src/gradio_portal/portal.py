"""Portal: the FastAPI application that owns users and sessions and mounts Gradio apps."""

from __future__ import annotations

import logging
from typing import Any

import gradio as gr
from fastapi import FastAPI, Request
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse, RedirectResponse, Response

from gradio_portal import _gradio_speedups
from gradio_portal._errors import ConfigurationError, SessionStoreError
from gradio_portal._injection import CallbackAdapter
from gradio_portal._pages import Pages
from gradio_portal.auth.account import build_account_router
from gradio_portal.auth.admin import build_admin_router
from gradio_portal.auth.cross_site import CrossSiteGuard
from gradio_portal.auth.csrf import CsrfProtection
from gradio_portal.auth.headers import GradioHeaders
from gradio_portal.auth.oidc import OidcLogin
from gradio_portal.auth.routes import build_auth_router
from gradio_portal.auth.setup import SetupTokens
from gradio_portal.auth.throttle import LoginThrottle
from gradio_portal.auth.uploads import UploadOwners, UploadOwnership
from gradio_portal.auth.users import UserService
from gradio_portal.guard import MountGuard
from gradio_portal.identity import User
from gradio_portal.navigation.adapter import head_snippet
from gradio_portal.sessions import SessionManager, open_session_store
from gradio_portal.sessions.middleware import SessionMiddleware, active_session
from gradio_portal.settings import PortalSettings
from gradio_portal.storage import Database, upgrade

__all__ = ["Portal"]

log = logging.getLogger("gradio_portal")

# Work Gradio repeats on every event, done once (see _gradio_speedups for what and why).
_gradio_speedups.apply()


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
    """

    def __init__(
        self,
        app: FastAPI | None = None,
        *,
        settings: PortalSettings | None = None,
        site_name: str = "gradio-portal",
        migrate: bool | None = None,
    ) -> None:
        self.settings = settings or PortalSettings()
        secret = self.settings.resolve_secret_key()
        database_url = self.settings.resolved_database_url
        self.database = Database(
            database_url,
            pool_size=self.settings.database_pool_size,
            max_overflow=self.settings.database_max_overflow,
        )
        if self.settings.auto_migrate if migrate is None else migrate:
            upgrade(database_url)
        self.users = UserService(self.database)
        self.sessions = SessionManager(
            open_session_store(self.settings, self.database),
            idle_timeout=self.settings.session_idle_timeout,
            absolute_timeout=self.settings.session_absolute_timeout,
            cache_ttl=self._session_cache_ttl(),
        )
        self.csrf = CsrfProtection(secret)
        self.throttle = LoginThrottle(
            per_account=self.settings.login_attempts_per_account,
            per_address=self.settings.login_attempts_per_address,
            redis_url=self.settings.redis_url,
            key_prefix=self.settings.throttle_key_prefix,
        )
        self.setup_tokens = SetupTokens(self.database)
        self.pages = Pages(site_name)
        self.callbacks = CallbackAdapter(
            allowed_hosts=self.settings.allowed_redirect_hosts,
            login_path=self.settings.login_path,
        )
        self.mount_paths: list[str] = []
        self._home_path: str | None = None

        owns_app = app is None
        self.app = app if app is not None else FastAPI(title=site_name, docs_url="/api/docs")
        self.app.state.portal = self
        self.app.include_router(build_auth_router(self))
        self.app.add_api_route("/healthz", self._health, methods=["GET"], include_in_schema=False)
        if owns_app:
            self.app.add_api_route("/", self._root, methods=["GET"], include_in_schema=False)
        self.app.add_exception_handler(SessionStoreError, self._unavailable)
        self.app.add_exception_handler(OperationalError, self._unavailable)

        # -- security: account, admin and single-sign-on pages; hardening of the mounts ------
        self.oidc = OidcLogin.configured(self, secret)
        self.uploads = UploadOwners(self.database)
        self.app.include_router(build_account_router(self))
        self.app.include_router(build_admin_router(self))
        if self.oidc is not None:
            self.app.include_router(self.oidc.router())
        # Added before the guard, so they run after it: they only see signed-in requests.
        self.app.add_middleware(UploadOwnership, mount_paths=self.mount_paths, owners=self.uploads)
        self.app.add_middleware(CrossSiteGuard, mount_paths=self.mount_paths)
        self.app.add_middleware(GradioHeaders, mount_paths=self.mount_paths)
        if not any(getattr(m, "cls", None) is CORSMiddleware for m in self.app.user_middleware):
            # Gradio echoes any Origin, with credentials, unless the host app configures CORS.
            self.app.add_middleware(CORSMiddleware, allow_origins=())
        # -- end of security wiring ----------------------------------------------------------

        # Added last, so it runs first: the guard reads the session it resolves.
        self.app.add_middleware(
            MountGuard, mount_paths=self.mount_paths, login_path=self.settings.login_path
        )
        self.app.add_middleware(
            SessionMiddleware,
            manager=self.sessions,
            cookie_name=self.settings.session_cookie,
            unavailable=self.pages.unavailable,
        )

    # -- mounting ---------------------------------------------------------------------------

    def mount(self, blocks: gr.Blocks, path: str, **mount_options: Any) -> gr.Blocks:
        """Mount ``blocks`` at ``path`` behind login.

        Every request under ``path`` needs a session (static assets aside). Handlers get a
        :class:`~gradio_portal.Context` for any parameter annotated with it, and may raise or
        return a :class:`~gradio_portal.Redirect`. ``mount_options`` go to
        ``gr.mount_gradio_app`` (``css``, ``theme``, ``head``, ``max_file_size``, ...).
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
        self.callbacks.adapt(blocks)
        hosts = self.settings.allowed_redirect_hosts
        head = head_snippet(
            login_url=self.settings.login_path,
            allowed_origins=[
                f"{scheme}://{host}" for host in hosts for scheme in ("https", "http")
            ],
        ) + (mount_options.pop("head", None) or "")
        mount_options.setdefault("ssr_mode", False)
        gr.mount_gradio_app(
            self.app,
            blocks,
            clean,
            auth_dependency=self._gradio_username,
            head=head,
            **mount_options,
        )
        self.mount_paths.append(clean)
        return blocks

    @property
    def home_path(self) -> str:
        """Where a user lands after signing in without a ``next=``: the first mount."""
        if self._home_path is not None:
            return self._home_path
        return self.mount_paths[0] + "/" if self.mount_paths else "/"

    @home_path.setter
    def home_path(self, value: str) -> None:
        self._home_path = value

    @staticmethod
    def _gradio_username(request: Request) -> str | None:
        active = active_session(request)
        return active.user.username if active is not None else None

    # -- sessions and cookies ---------------------------------------------------------------

    async def start_session(self, request: Request, response: Response, user: User) -> None:
        """Sign ``user`` in: a new session (the previous one ends) and its cookie."""
        previous = active_session(request)
        if previous is not None:
            await run_in_threadpool(self.sessions.logout, previous.token)
        active = await run_in_threadpool(
            lambda: self.sessions.login(
                user,
                user_agent=request.headers.get("user-agent", ""),
                address=request.client.host if request.client else "",
            )
        )
        self.set_cookie(
            response,
            request,
            self.settings.session_cookie,
            active.token,
            max_age=self.settings.session_absolute_timeout,
        )

    def set_cookie(
        self, response: Response, request: Request, name: str, value: str, *, max_age: int | None
    ) -> None:
        secure = self.settings.cookie_secure
        if secure is None:
            secure = request.url.scheme == "https"
        response.set_cookie(
            name, value, max_age=max_age, path="/", httponly=True, samesite="lax", secure=secure
        )

    def clear_session_cookie(self, response: Response, request: Request) -> None:
        response.delete_cookie(
            self.settings.session_cookie, path="/", httponly=True, samesite="lax"
        )

    def setup_allowed(self, token: str) -> bool:
        """True while no user exists and ``token`` is a live setup token."""
        return self.users.count() == 0 and self.setup_tokens.valid(token)

    def setup_link(self, base_url: str) -> str | None:
        """A one-time link that creates the first administrator, or None when users exist."""
        if self.users.count() > 0:
            return None
        return f"{base_url.rstrip('/')}/setup?token={self.setup_tokens.issue()}"

    # -- plumbing ---------------------------------------------------------------------------

    def _session_cache_ttl(self) -> float:
        if self.settings.session_cache_ttl is not None:
            return self.settings.session_cache_ttl
        one_process = self.database.is_sqlite and not self.settings.redis_url
        return 1.0 if one_process else 0.0

    async def _root(self) -> Response:
        return RedirectResponse(
            self.home_path if self.home_path != "/" else self.settings.login_path
        )

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
        if "text/html" in request.headers.get("accept", ""):
            return self.pages.message(
                "Temporarily unavailable",
                "The portal cannot reach its database right now. Nothing was lost: try again "
                "in a moment.",
                status=503,
            )
        return JSONResponse(
            {"detail": "The portal cannot reach its database right now: retry shortly."},
            status_code=503,
            headers={"retry-after": "5"},
        )
