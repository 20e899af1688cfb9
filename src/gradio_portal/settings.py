"""Configuration: one pydantic-settings class, read from ``GRADIO_PORTAL_*`` variables."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from gradio_portal._errors import ConfigurationError

__all__ = ["PortalSettings"]


class PortalSettings(BaseSettings):
    """Everything the portal can be told, with defaults that run on one machine.

    Each field reads the environment variable ``GRADIO_PORTAL_<FIELD>`` (case-insensitive), e.g.
    ``GRADIO_PORTAL_DATABASE_URL=postgresql+psycopg://...``.
    """

    model_config = SettingsConfigDict(env_prefix="GRADIO_PORTAL_", extra="ignore")

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Path(".gradio-portal")
    secret_key: SecretStr | None = None

    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: a SQLite file in data_dir."
    )
    auto_migrate: bool = Field(
        default=True,
        description="Upgrade the schema at start-up; turn off when a deployment job migrates.",
    )
    database_pool_size: int = 5
    database_max_overflow: int = 10
    redis_url: str | None = Field(
        default=None, description="When set, sessions and login throttling live in Redis."
    )

    session_cookie: str = "gradio_portal_session"
    session_idle_timeout: int = Field(default=2 * 3600, gt=0, description="Seconds.")
    session_absolute_timeout: int = Field(default=7 * 24 * 3600, gt=0, description="Seconds.")
    session_cache_ttl: float | None = Field(
        default=None,
        ge=0,
        description="Seconds a process reuses a validated session. None: 1 s on the one-process "
        "SQLite default, 0 with Redis (a sign-out then reaches every process at once).",
    )
    cookie_secure: bool | None = Field(
        default=None, description="Secure cookie flag; None means 'when the request is https'."
    )

    max_sessions_per_user: int = Field(
        default=20,
        gt=0,
        description="Live sessions one user may have; a new sign-in beyond it ends the oldest.",
    )

    login_path: str = "/login"
    allowed_redirect_hosts: list[str] = Field(default_factory=list)
    login_attempts_per_account: str = "10/5 minutes"
    login_attempts_per_address: str = "30/5 minutes"

    max_upload_bytes: int = Field(
        default=100 * 1024 * 1024,
        gt=0,
        description="Largest file one upload to a mounted app may carry (bytes); larger ones "
        "are refused with 413. Apps without a file input accept no uploads at all.",
    )
    run_history: bool = Field(
        default=False,
        description="Let mounted apps keep Gradio's run history (every input and output of the "
        "signed-in user) in the browser's storage, where it outlives sign-out. Off by default.",
    )

    log_format: Literal["text", "json"] = Field(
        default="text",
        description="How `serve` writes its log: one text line per event (time, level, logger, "
        "request id, message) or one JSON object per line.",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="The lowest level `serve` writes to its log."
    )
    metrics_allow: list[str] = Field(
        default_factory=lambda: ["127.0.0.1/32", "::1/128"],
        description="Addresses (CIDR) allowed to read /metrics without a token; [] for none.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token that opens /metrics from any address "
        "(`Authorization: Bearer <token>`).",
    )

    chat_backend: Literal["echo", "openai"] = "echo"
    chat_system_prompt: str = "You are a helpful assistant."
    chat_history_budget_chars: int = 24_000
    chat_max_message_chars: int = 32_000
    chat_echo_tokens_per_second: float = 20.0
    chat_echo_reply_tokens: int | None = None
    chat_stream_interval: float = Field(
        default=0.1, ge=0, description="Seconds between a reply's updates to the page, at least."
    )
    chat_stream_budget: float = Field(
        default=800,
        ge=0,
        description="Reply updates per second one process sends in all: with more replies "
        "streaming than budget x interval, each one's updates space out so the total stays "
        "within it and new messages still start at once. 0: no budget.",
    )
    chat_concurrency_limit: int = 256
    openai_base_url: str = "https://api.openai.com/v1"
    openai_model: str = "gpt-4o-mini"
    openai_api_key: SecretStr | None = None

    # Single sign-on (OpenID Connect). Enabled when issuer and client id are both set.
    oidc_issuer: str | None = Field(
        default=None,
        description="Issuer URL; discovery reads <issuer>/.well-known/openid-configuration.",
    )
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_scopes: str = "openid email profile"
    oidc_display_name: str = Field(
        default="single sign-on", description="Shown as 'Sign in with <name>'."
    )
    oidc_redirect_uri: str | None = Field(
        default=None,
        description="Absolute callback URL registered at the provider; default: derived from "
        "the request (<scheme>://<host>/login/oidc/callback).",
    )
    oidc_create_users: bool = Field(
        default=True,
        description="Create an SSO-only portal user on a first sign-in; when off, only "
        "identities already linked may sign in.",
    )
    throttle_key_prefix: str = Field(
        default="gradio_portal:login",
        description="Prefix of the login-throttle keys in Redis (several portals, one Redis).",
    )

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to ``sqlite:///<data_dir>/portal.db``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'portal.db').resolve()}"

    def resolve_secret_key(self) -> str:
        """Return the secret key, creating and keeping one in development.

        In production a missing key stops start-up: a key generated per process would break
        every CSRF token as soon as a second process or a restart is involved.
        """
        if self.secret_key is not None:
            value = self.secret_key.get_secret_value()
            if len(value) < 32:
                raise ConfigurationError(
                    "GRADIO_PORTAL_SECRET_KEY is too short: use at least 32 characters, e.g. "
                    "the output of `python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
                )
            return value
        if self.environment == "production":
            raise ConfigurationError(
                "GRADIO_PORTAL_SECRET_KEY is not set. In production the portal needs a fixed "
                "secret shared by all its processes. Generate one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'` and set it in "
                "the environment (or a secret store) of every process."
            )
        return _development_secret(self.data_dir / "secret_key")


def _development_secret(path: Path) -> str:
    """Read, or create with mode 0600, the development secret kept in the data directory."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting at once must agree on a single key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value
