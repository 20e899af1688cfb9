"""Building blocks of the scale tests and of bench/bench_scale.py.

- :func:`fresh_postgres_database`: a ``gp_test_<random>`` database, dropped afterwards, so a run
  never touches other data on the machine's PostgreSQL.
- :func:`render_nginx_config` and :class:`Nginx`: ``deploy/nginx.conf.template`` filled in and
  run by a private nginx (``-p <dir>``, logs and pid in that directory).
- :class:`Cluster`: N real ``gradio-portal serve`` processes (through
  :class:`gradio_portal.supervisor.Supervisor`) behind that nginx, talking to PostgreSQL and
  Redis through :class:`~tests.scale.tcpproxy.TcpProxy` instances a test can cut.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
from psycopg import sql
from tests.scale.tcpproxy import TcpProxy

from gradio_portal.supervisor import Supervisor

__all__ = [
    "CHAT_PATH",
    "NGINX_TEMPLATE",
    "PASSWORD",
    "REPO",
    "USERS",
    "Cluster",
    "Nginx",
    "chat_serve_target",
    "consecutive_free_ports",
    "fresh_postgres_database",
    "nginx_binary",
    "render_nginx_config",
    "seed_users",
]

REPO = Path(__file__).resolve().parents[2]
NGINX_TEMPLATE = REPO / "deploy" / "nginx.conf.template"
PASSWORD = "scale test password"
USERS = ("alice", "bob", "carol", "dave")
_PLACEHOLDER = re.compile(r"\$\{(GP_[A-Z_]+)\}")


# -- PostgreSQL -------------------------------------------------------------------------------


@contextmanager
def fresh_postgres_database(url: str) -> Iterator[str]:
    """A new empty database on the server of ``url``; yields its SQLAlchemy URL, then drops it.

    ``url`` is a ``postgresql+psycopg://`` URL of any database the user may connect to; only the
    new database is ever written to.
    """
    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(scheme="postgresql"))
    name = f"gp_test_{secrets.token_hex(6)}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(parts._replace(path="/" + name))
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            # FORCE: a portal process killed by a test may leave a connection behind.
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


class _HashOnce:
    """A password hasher that hashes each password once: Argon2 costs about 0.4 s here, and
    every seeded user has the same password (sign-ins still verify it for real)."""

    def __init__(self) -> None:
        from gradio_portal.auth.passwords import PasswordHasher

        self._real = PasswordHasher()
        self._hashes: dict[str, str] = {}

    def hash(self, password: str) -> str:
        if password not in self._hashes:
            self._hashes[password] = self._real.hash(password)
        return self._hashes[password]


def seed_users(database_url: str, names: Sequence[str] = USERS) -> None:
    """Migrate ``database_url`` and create ``names`` with :data:`PASSWORD`."""
    from gradio_portal.auth.users import UserService
    from gradio_portal.storage import Database, upgrade

    upgrade(database_url)
    database = Database(database_url)
    try:
        users = UserService(database, hasher=_HashOnce())  # type: ignore[arg-type]
        for name in names:
            users.create(name, PASSWORD)
    finally:
        database.dispose()


# -- ports ------------------------------------------------------------------------------------


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def consecutive_free_ports(n: int) -> int:
    """A base port such that ``base .. base+n-1`` are free on loopback now.

    Below the kernel's ephemeral range: a probe of a port in that range, before its server
    listens, can be given that same port as its own source and connect to itself.
    """
    lowest, ceiling = 20000, _ephemeral_start() - n
    for _ in range(200):
        base = lowest + secrets.randbelow(max(1, ceiling - lowest))
        if all(_port_free(base + i) for i in range(n)):
            return base
    raise RuntimeError(f"no {n} consecutive free ports found")


def _ephemeral_start(default: int = 32768) -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return default


def _wait_for_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


# -- nginx ------------------------------------------------------------------------------------


def nginx_binary() -> str | None:
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None


def render_nginx_config(
    template: str,
    *,
    listen: str,
    upstream_ports: Sequence[int],
    log_dir: Path,
    temp_dir: Path,
    upstream_host: str = "127.0.0.1",
) -> str:
    """Fill the ``${GP_*}`` placeholders of the template (nginx's own ``$vars`` stay)."""
    servers = "\n        ".join(
        f"server {upstream_host}:{port} max_fails=1 fail_timeout=10s;" for port in upstream_ports
    )
    values = {
        "GP_LISTEN": listen,
        "GP_UPSTREAM_SERVERS": servers,
        "GP_LOG_DIR": str(log_dir),
        "GP_TEMP_DIR": str(temp_dir),
    }

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"the nginx template has an unknown placeholder ${{{name}}}")
        return values[name]

    return _PLACEHOLDER.sub(fill, template)


class Nginx:
    """A private nginx in ``workdir`` in front of ``upstream_ports``, rendered from the template."""

    def __init__(self, workdir: Path, upstream_ports: Sequence[int]) -> None:
        binary = nginx_binary()
        if binary is None:
            raise RuntimeError("nginx is not installed (apt-get install nginx-light)")
        self.binary = binary
        self.workdir = workdir
        self.upstream_ports = list(upstream_ports)
        self.port = consecutive_free_ports(1)
        self.conf = workdir / "nginx.conf"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def error_log(self) -> Path:
        return self.workdir / "logs" / "error.log"

    @property
    def access_log(self) -> Path:
        return self.workdir / "logs" / "access.log"

    def start(self, timeout: float = 15) -> Nginx:
        (self.workdir / "logs").mkdir(parents=True, exist_ok=True)
        (self.workdir / "temp").mkdir(parents=True, exist_ok=True)
        self.conf.write_text(
            render_nginx_config(
                NGINX_TEMPLATE.read_text(),
                listen=f"127.0.0.1:{self.port}",
                upstream_ports=self.upstream_ports,
                log_dir=self.workdir / "logs",
                temp_dir=self.workdir / "temp",
            )
        )
        directives = f"daemon off; pid {self.workdir / 'nginx.pid'};"
        if os.geteuid() == 0:
            # Workers would run as 'nobody', unable to write the test's private temp dir.
            directives += " user root;"
        self.process = subprocess.Popen(
            [
                self.binary,
                "-p",
                str(self.workdir),
                "-c",
                str(self.conf),
                "-e",
                str(self.error_log),
                "-g",
                directives,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            _wait_for_port(self.port, timeout)
        except OSError:
            self.stop()
            raise RuntimeError(f"nginx did not start:\n{self.log_tail()}") from None
        return self

    def log_tail(self, lines: int = 30) -> str:
        text = self.error_log.read_text() if self.error_log.exists() else ""
        if self.process is not None and self.process.poll() is not None and self.process.stderr:
            text += self.process.stderr.read().decode(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # SIGQUIT: graceful shutdown; streams still open are cut after the timeout.
        self.process.send_signal(signal.SIGQUIT)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# -- the whole picture ------------------------------------------------------------------------

CHAT_PATH = "/chat"


def chat_serve_target() -> tuple[str | None, str | None]:
    """``serve``'s TARGET and ``--path`` for the reference chat.

    The built-in app (no TARGET) once ``gradio-portal serve`` mounts the chat itself; until
    then tests.scale.apps builds the same chat Blocks.
    """
    import inspect

    from gradio_portal import cli

    if "mount_chat" in inspect.getsource(cli.build_app):
        return None, None
    return "tests.scale.apps:build_chat_app", CHAT_PATH


def _via_proxy(url: str, proxy: TcpProxy) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{proxy.port}"
    return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))


@dataclass
class Cluster:
    """N portal processes behind nginx, with PostgreSQL and Redis behind cuttable proxies."""

    supervisor: Supervisor
    nginx: Nginx
    database_url: str  # direct, for assertions; the processes go through postgres_proxy
    postgres_proxy: TcpProxy
    redis_proxy: TcpProxy | None
    workdir: Path

    @property
    def url(self) -> str:
        return self.nginx.url

    @property
    def process_urls(self) -> list[str]:
        return self.supervisor.urls

    def process_of(self, client: httpx.Client) -> int:
        """The index of the process nginx sends ``client`` to (its affinity cookie decides).

        Read off nginx's access log, whose format names the upstream of every request.
        """
        probe = secrets.token_hex(8)
        client.get("/healthz", params={"probe": probe})
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            for line in self.nginx.access_log.read_text().splitlines():
                if probe in line:
                    match = re.search(r"upstream=(?:\S+, )*127\.0\.0\.1:(\d+)", line)
                    assert match is not None, line
                    return self.supervisor.ports.index(int(match.group(1)))
            time.sleep(0.05)
        raise AssertionError(f"request {probe} is not in nginx's access log")

    def logs(self) -> str:
        """Every process's output, for assertion messages and the no-traceback checks."""
        parts = []
        for path in sorted((self.workdir / "processes").glob("*.log")):
            parts.append(f"== {path.name}\n{path.read_text(errors='replace')}")
        return "\n".join(parts)

    @classmethod
    @contextmanager
    def run(
        cls,
        workdir: Path,
        *,
        processes: int,
        database_url: str,
        redis_url: str | None,
        target: str | None = "tests.scale.apps:build_events_app",
        path: str | None = "/app",
        extra_env: dict[str, str] | None = None,
        users: Sequence[str] = USERS,
        ready_timeout: float = 120,
    ) -> Iterator[Cluster]:
        """Seed users, start the proxies, the processes and nginx; stop them all afterwards."""
        seed_users(database_url, users)
        with ExitStack() as stack:
            host_port = urlsplit(database_url)
            postgres_proxy = stack.enter_context(
                TcpProxy(host_port.hostname or "127.0.0.1", host_port.port or 5432)
            )
            redis_proxy = None
            env = {
                "GRADIO_PORTAL_DATABASE_URL": _via_proxy(database_url, postgres_proxy),
                "GRADIO_PORTAL_SECRET_KEY": secrets.token_urlsafe(48),
                "GRADIO_PORTAL_ENVIRONMENT": "production",
                "GRADIO_PORTAL_DATA_DIR": str(workdir / "data"),
                "GRADIO_ANALYTICS_ENABLED": "False",
                # The Redis database is shared with other test runs, whose failed sign-ins
                # from 127.0.0.1 would otherwise throttle these users' logins.
                "GRADIO_PORTAL_LOGIN_ATTEMPTS_PER_ACCOUNT": "100000/minute",
                "GRADIO_PORTAL_LOGIN_ATTEMPTS_PER_ADDRESS": "100000/minute",
                "PYTHONPATH": os.pathsep.join(
                    p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p
                ),
                **(extra_env or {}),
            }
            if redis_url is not None:
                parts = urlsplit(redis_url)
                redis_proxy = stack.enter_context(
                    TcpProxy(parts.hostname or "127.0.0.1", parts.port or 6379)
                )
                env["GRADIO_PORTAL_REDIS_URL"] = _via_proxy(redis_url, redis_proxy)
            supervisor = Supervisor(
                processes,
                consecutive_free_ports(processes),
                target,
                path=path,
                env=env,
                migrate=False,  # seed_users migrated already
                log_dir=workdir / "processes",
                cwd=REPO,
                grace=5,
            )
            stack.callback(supervisor.stop)
            supervisor.start()
            nginx = Nginx(workdir / "nginx", supervisor.ports).start()
            stack.callback(nginx.stop)
            cluster = cls(supervisor, nginx, database_url, postgres_proxy, redis_proxy, workdir)
            try:
                supervisor.wait_ready(ready_timeout)
            except TimeoutError as exc:
                raise RuntimeError(f"{exc}\n{cluster.logs()[-6000:]}") from None
            yield cluster
