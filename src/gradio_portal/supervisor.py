"""Run N single-worker ``gradio-portal serve`` processes on consecutive ports, and keep them up.

Gradio keeps its queue, generators and ``gr.State`` in process memory, so ``uvicorn --workers``
breaks events (``queue/join`` and ``queue/data`` land in different workers). Scaling out
therefore means N independent processes behind a load balancer with cookie affinity (see
``deploy/nginx.conf.template`` and ``docs/deployment.md``), each on its own port, all sharing
one database and one Redis. This module is that process runner:

- the schema is migrated once, before any process starts, so N processes never race to
  create the tables (the PostgreSQL migrations also take an advisory lock, for
  orchestrators that start several copies at once);
- a process that exits or crashes is started again, with a growing delay when it keeps
  failing at start-up, so a bad configuration does not spin the CPU;
- SIGTERM or SIGINT stops every process gracefully (SIGTERM, then SIGKILL after a grace
  period); SIGHUP restarts them one at a time, waiting for each to be ready.

Example::

    from gradio_portal.supervisor import run_processes

    # 3 processes on 127.0.0.1:8001..8003 serving the built-in app; returns on SIGTERM.
    run_processes(3, 8001)

or, non-blocking (tests, benchmarks)::

    with Supervisor(2, 9001, "myapp:demo", env={"GRADIO_PORTAL_REDIS_URL": url}) as group:
        group.wait_ready()
"""

from __future__ import annotations

import http.client
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO

from gradio_portal._errors import ConfigurationError

__all__ = ["PortalProcess", "Supervisor", "run_processes"]

log = logging.getLogger("gradio_portal.supervisor")

# Runs the CLI in the child: independent of where the console script was installed.
_CLI = "import sys; from gradio_portal.cli import main; sys.exit(main(sys.argv[1:]))"

# A process that dies sooner than this after starting counts as failing at start-up.
_STABLE_AFTER = 10.0
_FIRST_DELAY = 0.5
_MAX_DELAY = 30.0


@dataclass
class PortalProcess:
    """One ``gradio-portal serve`` child: its port, its OS process and its restart state."""

    index: int
    port: int
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0
    delay: float = _FIRST_DELAY
    # When a dead process may be started again (monotonic clock).
    restart_at: float | None = None
    log_file: IO[bytes] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Supervisor:
    """Start, watch, restart and stop ``n`` portal processes on ``base_port`` .. ``+n-1``.

    Args:
        n: how many processes (one uvicorn worker each).
        base_port: the port of the first process; the others take the next ports.
        target: ``MODULE:ATTRIBUTE`` of a ``gr.Blocks`` to serve, as for ``gradio-portal
            serve``; None serves the built-in app.
        host: the address every process binds (keep 127.0.0.1 behind a local nginx).
        path: mount path of ``target`` (``serve --path``).
        root_path: URL prefix added by the reverse proxy (``serve --root-path``).
        forwarded_allow_ips: proxies trusted for X-Forwarded-* headers.
        env: variables added to this process's environment for the children
            (``GRADIO_PORTAL_DATABASE_URL``, ``GRADIO_PORTAL_REDIS_URL``, ...).
        migrate: run ``gradio-portal db upgrade`` once before starting the processes.
        log_dir: write each process's output to ``log_dir/portal-<port>.log`` instead of
            this process's stdout/stderr.
        cwd: working directory of the children (a TARGET module is imported from there).
        grace: seconds a process gets to finish after SIGTERM before it is killed.
        python: the interpreter that runs the children.
        groups: ``serve --group``: the groups TARGET is open to (none: every user).
    """

    def __init__(
        self,
        n: int,
        base_port: int,
        target: str | None = None,
        *,
        host: str = "127.0.0.1",
        path: str | None = None,
        root_path: str = "",
        forwarded_allow_ips: str = "127.0.0.1",
        env: Mapping[str, str] | None = None,
        migrate: bool = True,
        log_dir: str | os.PathLike[str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        grace: float = 10.0,
        python: str = sys.executable,
        groups: Sequence[str] = (),
    ) -> None:
        if n < 1:
            raise ConfigurationError(f"the number of processes must be 1 or more, not {n}")
        if not 0 < base_port <= 65535 - (n - 1):
            raise ConfigurationError(
                f"ports {base_port}..{base_port + n - 1} are not all valid TCP ports"
            )
        self.target = target
        self.host = host
        self.path = path
        self.root_path = root_path
        self.forwarded_allow_ips = forwarded_allow_ips
        self.env = {**os.environ, **(env or {})}
        self.migrate = migrate
        self.log_dir = Path(log_dir) if log_dir is not None else None
        self.cwd = Path(cwd) if cwd is not None else None
        self.grace = grace
        self.python = python
        self.groups = tuple(groups)
        self.processes = [PortalProcess(i, base_port + i) for i in range(n)]
        self._stopping = False
        # poll() runs from the watch loop and from callers (tests); one at a time.
        self._lock = threading.RLock()

    # -- public API -------------------------------------------------------------------------

    @property
    def ports(self) -> list[int]:
        return [p.port for p in self.processes]

    @property
    def urls(self) -> list[str]:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return [f"http://{host}:{port}" for port in self.ports]

    def command(self, port: int) -> list[str]:
        """The argument list that starts the process serving ``port``."""
        args = [self.python, "-c", _CLI, "serve"]
        if self.target:
            args.append(self.target)
        args += ["--host", self.host, "--port", str(port)]
        args += ["--forwarded-allow-ips", self.forwarded_allow_ips]
        if self.path:
            args += ["--path", self.path]
        if self.root_path:
            args += ["--root-path", self.root_path]
        for group in self.groups:
            args += ["--group", group]
        return args

    def start(self) -> Supervisor:
        """Migrate (when asked), then start every process. Does not wait for readiness."""
        self._stopping = False
        if self.migrate:
            self.upgrade_schema()
        with self._lock:
            for proc in self.processes:
                self._spawn(proc)
        return self

    def upgrade_schema(self) -> None:
        """Run ``gradio-portal db upgrade`` with the children's environment."""
        result = subprocess.run(
            [self.python, "-c", _CLI, "db", "upgrade"],
            env=self.env,
            cwd=self.cwd,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise ConfigurationError(
                "the database migration failed before starting the portal processes:\n"
                + (result.stderr or result.stdout).strip()[-4000:]
            )

    def poll(self) -> list[int]:
        """Restart processes that exited (once their back-off delay is over).

        Returns the indexes of the processes started by this call.
        """
        started: list[int] = []
        with self._lock:
            if self._stopping:
                return started
            now = time.monotonic()
            for proc in self.processes:
                if proc.process is None or proc.alive():
                    continue
                if proc.restart_at is None:
                    code = proc.process.returncode
                    lived = now - proc.started_at
                    # A process that ran for a while gets a quick restart; one that keeps
                    # dying at start-up waits longer each time.
                    proc.delay = (
                        _FIRST_DELAY if lived >= _STABLE_AFTER else min(proc.delay * 2, _MAX_DELAY)
                    )
                    proc.restart_at = now + proc.delay
                    log.warning(
                        "portal process on port %d (pid %s) exited with %s after %.1f s; "
                        "restarting in %.1f s",
                        proc.port,
                        proc.pid,
                        _describe_exit(code),
                        lived,
                        proc.delay,
                    )
                if now >= proc.restart_at:
                    proc.restarts += 1
                    self._spawn(proc)
                    started.append(proc.index)
        return started

    def wait_ready(self, timeout: float = 60.0, indexes: Sequence[int] | None = None) -> None:
        """Block until every process (or those of ``indexes``) answers ``/healthz`` with 200.

        Dead processes are restarted meanwhile. Raises TimeoutError naming the laggards.
        """
        pending = set(range(len(self.processes)) if indexes is None else indexes)
        deadline = time.monotonic() + timeout
        while pending:
            self.poll()
            for index in sorted(pending):
                if self.processes[index].alive() and self._healthy(index):
                    pending.discard(index)
            if not pending:
                return
            if time.monotonic() > deadline:
                ports = ", ".join(str(self.processes[i].port) for i in sorted(pending))
                raise TimeoutError(f"portal processes on port(s) {ports} not ready in {timeout} s")
            time.sleep(0.2)

    def send_signal(self, index: int, signum: int = signal.SIGTERM) -> None:
        """Send ``signum`` to one process (tests use SIGKILL to simulate a crash)."""
        proc = self.processes[index]
        if proc.alive() and proc.process is not None:
            proc.process.send_signal(signum)

    def restart(self, index: int, *, timeout: float = 60.0) -> None:
        """Stop one process gracefully, start it again and wait until it is ready."""
        with self._lock:
            proc = self.processes[index]
            self._terminate([proc])
            self._spawn(proc)
        self.wait_ready(timeout, [index])

    def restart_all(self, *, rolling: bool = True, timeout: float = 60.0) -> None:
        """Restart every process: one at a time (``rolling``, never all down) or all at once."""
        if rolling:
            for index in range(len(self.processes)):
                self.restart(index, timeout=timeout)
            return
        with self._lock:
            self._terminate(self.processes)
            for proc in self.processes:
                self._spawn(proc)
        self.wait_ready(timeout)

    def stop(self) -> None:
        """Stop every process: SIGTERM, then SIGKILL for those still running after ``grace``."""
        with self._lock:
            self._stopping = True
            self._terminate(self.processes)
            for proc in self.processes:
                if proc.log_file is not None:
                    proc.log_file.close()
                    proc.log_file = None

    def run(self, *, interval: float = 0.5) -> int:
        """Start, then watch the processes until SIGTERM or SIGINT; SIGHUP restarts them.

        Must run in the main thread (it installs signal handlers). Returns an exit code.
        """
        stop = threading.Event()
        reload = threading.Event()

        def on_stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        def on_hup(signum: int, frame: FrameType | None) -> None:
            reload.set()

        previous = {
            sig: signal.signal(sig, handler)
            for sig, handler in (
                (signal.SIGTERM, on_stop),
                (signal.SIGINT, on_stop),
                (signal.SIGHUP, on_hup),
            )
        }
        try:
            self.start()
            for url in self.urls:
                print(f"gradio-portal: process serving on {url}", flush=True)
            while not stop.wait(interval):
                if reload.is_set():
                    reload.clear()
                    log.warning("SIGHUP: restarting the portal processes one at a time")
                    try:
                        self.restart_all(rolling=True)
                    except TimeoutError as exc:
                        log.error("rolling restart: %s", exc)
                self.poll()
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return 0

    def __enter__(self) -> Supervisor:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- internals --------------------------------------------------------------------------

    def _spawn(self, proc: PortalProcess) -> None:
        output: IO[bytes] | None = None
        if self.log_dir is not None:
            if proc.log_file is None:
                self.log_dir.mkdir(parents=True, exist_ok=True)
                proc.log_file = (self.log_dir / f"portal-{proc.port}.log").open("ab")
            output = proc.log_file
        proc.process = subprocess.Popen(
            self.command(proc.port),
            env=self.env,
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT if output is not None else None,
        )
        proc.started_at = time.monotonic()
        proc.restart_at = None

    def _terminate(self, procs: Sequence[PortalProcess]) -> None:
        running = [p for p in procs if p.alive() and p.process is not None]
        for proc in running:
            assert proc.process is not None
            proc.process.terminate()
        deadline = time.monotonic() + self.grace
        for proc in running:
            assert proc.process is not None
            try:
                proc.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("portal process on port %d ignored SIGTERM: killing it", proc.port)
                proc.process.kill()
                proc.process.wait()

    def _healthy(self, index: int) -> bool:
        try:
            with urllib.request.urlopen(self.urls[index] + "/healthz", timeout=2) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError, http.client.HTTPException):
            # HTTPException: something that is not the portal answered. Before the process
            # listens, a probe to a port in the kernel's ephemeral range can even connect to
            # itself and read its own request back ("BadStatusLine: GET /healthz").
            return False


def run_processes(
    n: int,
    base_port: int,
    target: str | None = None,
    *,
    host: str = "127.0.0.1",
    path: str | None = None,
    root_path: str = "",
    forwarded_allow_ips: str = "127.0.0.1",
    env: Mapping[str, str] | None = None,
    migrate: bool = True,
    log_dir: str | os.PathLike[str] | None = None,
    groups: Sequence[str] = (),
) -> int:
    """Run ``n`` portal processes on ``base_port``.. until SIGTERM/SIGINT; return an exit code.

    This is what ``gradio-portal serve --processes N`` runs: the same TARGET, host, path,
    root path and trusted proxies for every process, each process on its own port. Put a
    load balancer with cookie affinity in front (``deploy/nginx.conf.template``).
    """
    supervisor = Supervisor(
        n,
        base_port,
        target,
        host=host,
        path=path,
        root_path=root_path,
        forwarded_allow_ips=forwarded_allow_ips,
        env=env,
        migrate=migrate,
        log_dir=log_dir,
        groups=groups,
    )
    return supervisor.run()


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "no code"
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"code {code}"
