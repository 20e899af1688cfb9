"""Shared plumbing of the benchmarks: statistics, machine facts, server subprocesses, tables.

Every server under test runs in its own subprocess (uvicorn, one worker) pinned to one core,
and the load generator pins itself to the other one, so a number measures the server and not
the client fighting it for the same core.
"""

from __future__ import annotations

import json
import math
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx

__all__ = [
    "CLIENT_CORE",
    "PASSWORD",
    "REPO",
    "SERVER_CORE",
    "Section",
    "ServerProcess",
    "Summary",
    "load_average",
    "machine_info",
    "machine_table",
    "pin_load_generator",
    "ratio",
    "scratch_dir",
    "seed_sessions",
    "seed_users",
    "summarize",
    "table",
]

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "bench password 1"
SERVER_CORE = 0
CLIENT_CORE = 1
# One Argon2 hash reused for every seeded user: hashing 1,000 passwords would take minutes of
# CPU and measures nothing the benchmarks are about (logins still verify it for real).
_PACKAGES = ("gradio", "fastapi", "starlette", "uvicorn", "sqlalchemy", "httpx", "playwright")


# -- statistics ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Summary:
    """Order statistics of a sample, in the unit of the sample."""

    n: int
    median: float
    p90: float
    p99: float
    mean: float
    minimum: float
    maximum: float


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), for q in [0, 100]."""
    if not sorted_values:
        return math.nan
    position = (len(sorted_values) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    fraction = position - low
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * fraction


def summarize(values: Iterable[float]) -> Summary:
    data = sorted(values)
    if not data:
        nan = math.nan
        return Summary(0, nan, nan, nan, nan, nan, nan)
    return Summary(
        n=len(data),
        median=statistics.median(data),
        p90=percentile(data, 90),
        p99=percentile(data, 99),
        mean=statistics.fmean(data),
        minimum=data[0],
        maximum=data[-1],
    )


def ratio(value: float, baseline: float) -> str:
    if not baseline or math.isnan(value) or math.isnan(baseline):
        return "n/a"
    return f"{value / baseline:.2f}x"


# -- machine -------------------------------------------------------------------------------


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info() -> dict[str, str]:
    info = {
        "CPU": _cpu_model(),
        "cores": str(os.cpu_count()),
        "Python": platform.python_version(),
        "OS": f"{platform.system()} {platform.release()}",
    }
    for package in _PACKAGES:
        try:
            info[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            info[package] = "not installed"
    info["load average (1/5/15 min)"] = load_average()
    return info


def machine_table(info: Mapping[str, str] | None = None) -> str:
    info = info or machine_info()
    return table(["machine", ""], [[key, value] for key, value in info.items()])


# -- markdown ------------------------------------------------------------------------------


def table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(" --- " for _ in header) + "|",
    ]
    for row in rows:
        lines.append("| " + " | ".join(str(cell) for cell in row) + " |")
    return "\n".join(lines)


@dataclass
class Section:
    """One benchmark's part of docs/benchmarks.md, plus its raw figures (kept as JSON)."""

    title: str
    body: str
    data: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def markdown(self) -> str:
        took = f"_This benchmark took {self.seconds:.0f} s._"
        return f"## {self.title}\n\n{self.body.strip()}\n\n{took}\n"


# -- processes -----------------------------------------------------------------------------


def pin_load_generator() -> None:
    """Keep the load generator (this process and its threads) off the servers' core."""
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {CLIENT_CORE})


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=f"gp-bench-{prefix}-") as path:
        yield Path(path)


class ServerProcess:
    """One app from ``bench._apps`` served by uvicorn (one worker) in a pinned subprocess.

    Example::

        with ServerProcess("bare_events", data_dir=tmp) as server:
            httpx.get(server.url + "/bench-ready")
    """

    def __init__(
        self,
        factory: str,
        *,
        data_dir: Path,
        options: Mapping[str, Any] | None = None,
        core: int = SERVER_CORE,
        profile: Path | None = None,
    ) -> None:
        self.factory = factory
        self.data_dir = data_dir
        self.options = dict(options or {})
        self.core = core
        self.profile = profile
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._log = data_dir / f"{factory}-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 90) -> ServerProcess:
        command = [
            sys.executable,
            "-m",
            "bench._serve",
            self.factory,
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            "--core",
            str(self.core),
            "--options",
            json.dumps(self.options),
        ]
        if self.profile is not None:
            command += ["--profile", str(self.profile)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("GRADIO_PORTAL_")}
        env["GRADIO_ANALYTICS_ENABLED"] = "False"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self._log.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.factory} exited at start-up:\n{self.log_tail()}")
            try:
                if httpx.get(self.url + "/bench-ready", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.factory} did not start in {timeout} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self._log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def rss_mib(self, field: str = "VmRSS") -> float:
        """Resident memory of the server process, from /proc (VmRSS; VmHWM is the peak)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
        raise RuntimeError(f"no {field} line")

    def cpu_seconds(self) -> float:
        """User + system CPU time the server has used so far (all its threads)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # SIGINT: uvicorn shuts down cleanly and the profiler (if any) writes its report.
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- seeding the portal's database ---------------------------------------------------------


def seed_users(data_dir: Path, count: int, *, prefix: str = "user") -> list[str]:
    """Create users ``user0000``.. in the portal database of ``data_dir``; return their names.

    The schema is migrated first, so the server started afterwards finds it ready.
    """
    from sqlalchemy import select

    from gradio_portal import PortalSettings
    from gradio_portal.storage import Database, upgrade
    from gradio_portal.storage.models import AccountRow, utcnow
    from gradio_portal.users.passwords import PasswordHasher

    settings = PortalSettings(data_dir=data_dir)
    settings.resolve_secret_key()  # created once here, so the server shares it
    url = settings.resolved_database_url
    upgrade(url)
    database = Database(url)
    password_hash = PasswordHasher().hash(PASSWORD)
    names = [f"{prefix}{i:04d}" for i in range(count)]
    try:
        with database.session() as session:
            existing = set(session.scalars(select(AccountRow.username)).all())
            session.add_all(
                AccountRow(
                    username=name,
                    display_name=name.title(),
                    password_hash=password_hash,
                    is_active=True,
                    roles=[],
                    password_changed_at=utcnow(),
                )
                for name in names
                if name not in existing
            )
    finally:
        database.dispose()
    return names


def seed_sessions(data_dir: Path, names: Sequence[str]) -> list[str]:
    """Start one server-side session per user, as a login would; return the cookie tokens.

    Used where a benchmark needs hundreds of signed-in users and login itself is not what it
    measures: each real login spends about 150 ms of Argon2 on the server's only core.
    """
    from sqlalchemy import select

    from gradio_portal import PortalSettings
    from gradio_portal.sessions import SessionManager, SQLSessionStore
    from gradio_portal.storage import Database
    from gradio_portal.storage.models import AccountRow
    from gradio_portal.users.user import User

    settings = PortalSettings(data_dir=data_dir)
    database = Database(settings.resolved_database_url)
    manager = SessionManager(
        SQLSessionStore(database),
        idle_timeout=settings.session_idle_timeout,
        absolute_timeout=settings.session_absolute_timeout,
    )
    try:
        with database.session() as session:
            rows = {
                row.username: row
                for row in session.scalars(select(AccountRow).where(AccountRow.username.in_(names)))
            }
        tokens = []
        for name in names:
            row = rows[name]
            user = User(row.id, row.username, row.display_name, tuple(row.roles))
            tokens.append(manager.login(user, user_agent="bench").token)
        return tokens
    finally:
        database.dispose()


def session_cookie_name() -> str:
    from gradio_portal import PortalSettings

    return PortalSettings.model_fields["session_cookie"].default  # type: ignore[no-any-return]
