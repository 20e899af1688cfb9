"""Configuration: one pydantic-settings class, read from ``GRADIO_PORTAL_*`` variables."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from gradio_portal._errors import ConfigurationError

__all__ = ["DEFAULT_TEXT_TYPES", "PortalSettings"]

# fmt: off
DEFAULT_TEXT_TYPES: tuple[str, ...] = (
    # Prose and data
    "txt", "md", "markdown", "rst", "adoc", "tex", "csv", "tsv", "json", "jsonl", "ndjson",
    "yaml", "yml", "toml", "xml", "ini", "cfg", "conf", "env", "properties", "log", "diff",
    "patch", "srt", "vtt", "ipynb",
    # Web
    "html", "htm", "css", "scss", "sass", "less", "js", "mjs", "cjs", "jsx", "ts", "tsx",
    "vue", "svelte", "graphql", "gql",
    # Code
    "py", "pyi", "ipy", "r", "jl", "m", "c", "h", "cc", "cpp", "cxx", "hpp", "hh", "cs",
    "java", "kt", "kts", "scala", "groovy", "gradle", "go", "rs", "rb", "php", "pl", "pm",
    "lua", "swift", "dart", "ex", "exs", "erl", "hs", "ml", "mli", "clj", "fs", "fsx", "zig",
    "nim", "v", "sv", "vhd", "asm", "s", "sql", "proto", "thrift", "tf", "hcl", "nix",
    # Shells and build files
    "sh", "bash", "zsh", "fish", "ps1", "bat", "cmd", "mk", "cmake", "make", "makefile",
    "dockerfile", "containerfile", "gitignore", "dockerignore", "editorconfig",
)
# fmt: on
"""The default of ``chat_attachment_text_types``: extensions, and whole names such as
``dockerfile``, of the text and code files the chat reads."""


class PortalSettings(BaseSettings):
    """Everything the portal can be told, with defaults that run on one machine.

    Each field reads the environment variable ``GRADIO_PORTAL_<FIELD>`` (case-insensitive), e.g.
    ``GRADIO_PORTAL_DATABASE_URL=postgresql+psycopg://...``, or the same line in a ``.env`` file
    in the working directory; the environment wins over the file. Every field is listed in
    docs/configuration.md, generated from this class by ``scripts/gen_config_docs.py``.
    """

    model_config = SettingsConfigDict(
        env_prefix="GRADIO_PORTAL_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    environment: Literal["development", "production"] = Field(
        default="development",
        description="`production` requires SECRET_KEY; `development` creates one in DATA_DIR.",
    )
    data_dir: Path = Field(
        default=Path(".gradio-portal"),
        description="Folder for the default SQLite database and the development secret key.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Signs CSRF tokens; at least 32 characters, the same in every process. "
        "Required in production.",
    )

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL, e.g. postgresql+psycopg://USER:PASSWORD@HOST/DATABASE "
        "(needs the postgres extra); unset: a SQLite file in DATA_DIR.",
    )
    auto_migrate: bool = Field(
        default=True,
        description="Upgrade the schema at start-up; turn off when a deployment job migrates.",
    )
    database_pool_size: int = Field(
        default=5, description="Connections each process keeps open to a database server."
    )
    database_max_overflow: int = Field(
        default=10,
        description="Connections a process may open beyond the pool at busy times.",
    )
    redis_url: str | None = Field(
        default=None,
        description="redis://HOST:PORT/DB: sessions and login throttling live in Redis, shared "
        "by every process (needs the redis extra).",
    )

    session_cookie: str = Field(
        default="gradio_portal_session", description="Name of the session cookie."
    )
    session_idle_timeout: int = Field(
        default=2 * 3600,
        gt=0,
        description="Seconds without a request after which a session ends.",
    )
    session_absolute_timeout: int = Field(
        default=7 * 24 * 3600,
        gt=0,
        description="Seconds after sign-in at which a session ends, however active.",
    )
    session_cache_ttl: float | None = Field(
        default=None,
        ge=0,
        description="Seconds a process reuses a validated session. Unset: 1 s on the one-process "
        "SQLite default, 0 with Redis (a sign-out then reaches every process at once).",
    )
    cookie_secure: bool | None = Field(
        default=None, description="Secure cookie flag; unset means 'when the request is https'."
    )

    max_sessions_per_user: int = Field(
        default=20,
        gt=0,
        description="Live sessions one user may have; a new sign-in beyond it ends the oldest.",
    )
    audit_retention_days: int | None = Field(
        default=365,
        gt=0,
        description="Days the audit trail keeps a security event (sign-ins, sign-outs, "
        "administrators' changes, refusals); pruned at start-up and by `gradio-portal audit`. "
        "None keeps every event.",
    )

    login_path: str = Field(default="/login", description="Path of the sign-in page.")
    allowed_redirect_hosts: list[str] = Field(
        default_factory=list,
        description="Other hosts (`host` or `host:port`) a Redirect or a `next=` may send a "
        "browser to; none by default: only this portal's own pages.",
    )
    login_attempts_per_account: str = Field(
        default="10/5 minutes",
        description="Failed sign-ins allowed per account (a `limits` rate such as "
        "`10/5 minutes`); more are refused with 429 until the window passes.",
    )
    login_attempts_per_address: str = Field(
        default="30/5 minutes",
        description="Failed sign-ins allowed per client address (a `limits` rate).",
    )

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

    chat_backend: Literal["echo", "openai"] = Field(
        default="echo",
        description="What answers in the built-in chat: `echo` (repeats the message, no model) "
        "or `openai` (any OpenAI-compatible API, see OPENAI_*).",
    )
    chat_system_prompt: str = Field(
        default="You are a helpful assistant.",
        description="System message sent to the model first; empty for none.",
    )
    chat_history_budget_chars: int = Field(
        default=24_000,
        description="Characters of earlier messages sent to the model with each new one, at "
        "most (the latest that fit); 0 sends none.",
    )
    chat_max_message_chars: int = Field(
        default=32_000, description="Longest message a user may send in the chat (characters)."
    )
    chat_attachment_max_bytes: int = Field(
        default=5 * 1024 * 1024,
        gt=0,
        description="Largest file a user may attach to a chat message (bytes); larger ones are "
        "refused with 413 before they are read whole.",
    )
    chat_attachment_max_files: int = Field(
        default=5, ge=1, description="Files one chat message may carry, at most."
    )
    chat_attachment_text_types: list[str] = Field(
        default_factory=lambda: list(DEFAULT_TEXT_TYPES),
        description="Text and code files the chat accepts, by extension (or whole name, such "
        "as `dockerfile`), as a JSON list; they must be UTF-8 text. Images (PNG, JPEG, GIF, "
        "WebP) are accepted by their contents, whatever their name; SVG never.",
    )
    chat_echo_tokens_per_second: float = Field(
        default=20.0,
        description="Pace of the echo backend's reply, in words per second; 0: all at once.",
    )
    chat_echo_reply_tokens: int | None = Field(
        default=None,
        description="Length of every echo reply in words (cut or padded with filler words); "
        "unset: the user's message (for load tests).",
    )
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
    chat_concurrency_limit: int = Field(
        default=256,
        description="Chat events (sends, replies) one process runs at once; more wait in "
        "Gradio's queue.",
    )
    chat_daily_message_limit: int = Field(
        default=0,
        ge=0,
        description="Messages (new, regenerated or edited) one user may send to the model per "
        "day, counted by UTC day; more are refused with a message saying when the count "
        "resets. 0: no limit.",
    )
    chat_models: list[str] = Field(
        default_factory=list,
        description="The models users may pick for a conversation (JSON list of ids, e.g. "
        '`["gpt-4o-mini", "gpt-4o"]`); [] offers every model the model server lists. The '
        "default model is `openai_model`.",
    )
    openai_base_url: str = Field(
        default="https://api.openai.com/v1",
        description="Base URL of the OpenAI-compatible API (`chat_backend=openai`).",
    )
    openai_model: str = Field(
        default="gpt-4o-mini", description="Model name sent to the OpenAI-compatible API."
    )
    openai_api_key: SecretStr | None = Field(
        default=None,
        description="API key for the OpenAI-compatible API; unset for servers without one.",
    )

    # Single sign-on (OpenID Connect). Enabled when issuer and client id are both set.
    oidc_issuer: str | None = Field(
        default=None,
        description="Issuer URL; discovery reads <issuer>/.well-known/openid-configuration. "
        "Single sign-on is on when it and OIDC_CLIENT_ID are both set.",
    )
    oidc_client_id: str | None = Field(
        default=None, description="Client id registered at the OpenID Connect provider."
    )
    oidc_client_secret: SecretStr | None = Field(
        default=None,
        description="Client secret, for a confidential client; unset for a public client "
        "(PKCE only).",
    )
    oidc_scopes: str = Field(
        default="openid email profile",
        description="Scopes requested at sign-in, space-separated; must include `openid`.",
    )
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
    oidc_groups_claim: str | None = Field(
        default=None,
        description="ID-token or userinfo claim (e.g. `groups`) holding the user's groups: when "
        "set, each single sign-on replaces the user's groups with the claim's (a list of names, "
        "or one name); when unset, groups are managed in the portal only.",
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
