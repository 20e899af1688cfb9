"""Run N portal processes behind nginx, for your own scale tests (and this project's).

- :func:`fresh_postgres_database`: a ``gp_test_<random>`` database, dropped afterwards, so a
  run never touches other data on the server.
- :func:`seed_users`: migrate a database and create accounts, without paying Argon2 per user.
- :class:`Cluster`: N real ``gradio-portal serve`` processes (through
  :class:`gradio_portal.supervisor.Supervisor`) behind a private :class:`~.nginx.Nginx` with
  cookie affinity, talking to PostgreSQL and Redis through :class:`~.tcpproxy.TcpProxy`
  instances a test can cut to simulate an outage.

Example (PostgreSQL, Redis and nginx on this machine; ``myapp:demo`` importable from ``cwd``)::

    from pathlib import Path

    import httpx
    from gradio_portal.testing import login
    from gradio_portal.testing.cluster import Cluster, fresh_postgres_database

    def test_two_processes_share_sessions(tmp_path):
        with (
            fresh_postgres_database("postgresql+psycopg://postgres@127.0.0.1/postgres") as db,
            Cluster.run(
                tmp_path,
                processes=2,
                database_url=db,
                redis_url="redis://127.0.0.1:6379/0",
                nginx_template=Path("deploy/nginx.conf.template"),
                target="myapp:demo",
                path="/app",
                users=["ada"],
                password="a long test password",
            ) as cluster,
            httpx.Client(base_url=cluster.url) as client,
        ):
            assert login(client, "ada", "a long test password").status_code == 303
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
from psycopg import sql

from gradio_portal.supervisor import Supervisor
from gradio_portal.testing.nginx import Nginx
from gradio_portal.testing.ports import consecutive_free_ports
from gradio_portal.testing.tcpproxy import TcpProxy

__all__ = ["Cluster", "fresh_postgres_database", "seed_users"]


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
        from gradio_portal.users.passwords import PasswordHasher

        self._real = PasswordHasher()
        self._hashes: dict[str, str] = {}

    def hash(self, password: str) -> str:
        if password not in self._hashes:
            self._hashes[password] = self._real.hash(password)
        return self._hashes[password]


def seed_users(database_url: str, names: Sequence[str], password: str) -> None:
    """Migrate ``database_url`` and create an account for each of ``names`` with ``password``."""
    from gradio_portal.storage import Database, upgrade
    from gradio_portal.users.accounts import Accounts

    upgrade(database_url)
    database = Database(database_url)
    try:
        accounts = Accounts(database, hasher=_HashOnce())  # type: ignore[arg-type]
        for name in names:
            accounts.create(name, password)
    finally:
        database.dispose()


# -- the whole picture ------------------------------------------------------------------------


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
        """nginx's address: where a browser would go."""
        return self.nginx.url

    @property
    def process_urls(self) -> list[str]:
        """Each process's own address, bypassing nginx."""
        return self.supervisor.urls

    def process_of(self, client: httpx.Client) -> int:
        """The index of the process nginx sends ``client`` to (its affinity cookie decides).

        Read off nginx's access log, which must name the upstream of every request as
        ``upstream=<address>`` (the ``gp_portal`` log format of deploy/nginx.conf.template).
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
        nginx_template: Path,
        target: str | None = None,
        path: str | None = None,
        users: Sequence[str] = (),
        password: str = "",
        extra_env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        ready_timeout: float = 120,
    ) -> Iterator[Cluster]:
        """Seed users, start the proxies, the processes and nginx; stop them all afterwards.

        ``target`` and ``path`` are ``gradio-portal serve``'s (None: the built-in app); the
        processes run in ``cwd`` (default: this process's), which is put on their
        ``PYTHONPATH`` so ``target`` may name a module there. ``users`` get ``password``.
        ``extra_env`` adds to (or overrides) the processes' ``GRADIO_PORTAL_*`` settings.
        """
        if users and not password:
            raise ValueError("Cluster.run seeds users with a password: pass password=")
        cwd = cwd or Path.cwd()
        seed_users(database_url, users, password)
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
                # A Redis database shared with other test runs, whose failed sign-ins from
                # 127.0.0.1 would otherwise throttle these users' logins.
                "GRADIO_PORTAL_LOGIN_ATTEMPTS_PER_ACCOUNT": "100000/minute",
                "GRADIO_PORTAL_LOGIN_ATTEMPTS_PER_ADDRESS": "100000/minute",
                "PYTHONPATH": os.pathsep.join(
                    p for p in (str(cwd), os.environ.get("PYTHONPATH", "")) if p
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
                cwd=cwd,
                grace=5,
            )
            stack.callback(supervisor.stop)
            supervisor.start()
            nginx = Nginx(workdir / "nginx", supervisor.ports, template=nginx_template).start()
            stack.callback(nginx.stop)
            cluster = cls(supervisor, nginx, database_url, postgres_proxy, redis_proxy, workdir)
            try:
                supervisor.wait_ready(ready_timeout)
            except TimeoutError as exc:
                raise RuntimeError(f"{exc}\n{cluster.logs()[-6000:]}") from None
            yield cluster
