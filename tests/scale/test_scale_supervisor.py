"""gradio_portal.supervisor: N processes on consecutive ports, restarted when they die.

A stand-in server (fake_serve.py, started in milliseconds) takes the place of the real CLI so
the restart, back-off and signal logic is tested quickly; test_scale_cluster.py and
test_scale_chat.py run the supervisor with real ``gradio-portal serve`` processes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from tests.scale.harness import REPO

from gradio_portal._errors import ConfigurationError
from gradio_portal.supervisor import Supervisor
from gradio_portal.testing.ports import consecutive_free_ports


@pytest.fixture(scope="module")
def fake_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An "interpreter" for Supervisor(python=...) that runs fake_serve.py with the same args."""
    script = tmp_path_factory.mktemp("fake") / "python"
    fake_serve = Path(__file__).with_name("fake_serve.py")
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{fake_serve}" "$@"\n')
    script.chmod(0o755)
    return str(script)


def pid_on(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
        return int(response.read())


def wait_for(condition: object, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if condition():  # type: ignore[operator]
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def test_processes_run_on_consecutive_ports_and_come_back_after_a_crash(
    tmp_path: Path, fake_python: str
) -> None:
    base = consecutive_free_ports(3)
    with Supervisor(3, base, python=fake_python, log_dir=tmp_path) as group:
        assert group.ports == [base, base + 1, base + 2]
        group.wait_ready(20)
        pids = [pid_on(port) for port in group.ports]
        assert pids == [p.pid for p in group.processes]

        group.send_signal(1, signal.SIGKILL)
        group.processes[1].process.wait(timeout=5)  # type: ignore[union-attr]
        group.wait_ready(20)  # polls: the dead process is started again
        assert group.processes[1].restarts == 1
        assert pid_on(base + 1) not in pids
        assert [pid_on(base), pid_on(base + 2)] == [pids[0], pids[2]]

        group.restart(0)
        assert pid_on(base) != pids[0]
    # Stopped: nothing answers any more.
    for port in group.ports:
        with pytest.raises(OSError):
            pid_on(port)
    assert all(not p.alive() for p in group.processes)
    assert (tmp_path / f"portal-{base}.log").exists()


def test_the_command_is_the_cli_serve_with_the_given_options() -> None:
    group = Supervisor(
        2,
        9001,
        "myapp:demo",
        host="0.0.0.0",
        path="/x",
        root_path="/portal",
        forwarded_allow_ips="10.0.0.1",
        python="py",
    )
    assert group.command(9002)[3:] == [
        "serve",
        "myapp:demo",
        "--host",
        "0.0.0.0",
        "--port",
        "9002",
        "--forwarded-allow-ips",
        "10.0.0.1",
        "--path",
        "/x",
        "--root-path",
        "/portal",
    ]
    assert group.urls == ["http://127.0.0.1:9001", "http://127.0.0.1:9002"]
    with pytest.raises(ConfigurationError):
        Supervisor(0, 9001)
    with pytest.raises(ConfigurationError):
        Supervisor(3, 65534)


def test_a_process_that_keeps_crashing_is_restarted_ever_more_slowly(fake_python: str) -> None:
    base = consecutive_free_ports(1)
    group = Supervisor(1, base, python=fake_python, env={"FAKE_SERVE_CRASH": "1"}, migrate=False)
    group.start()
    try:
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            group.poll()
            time.sleep(0.02)
        proc = group.processes[0]
        # 0.5 s, 1 s, 2 s, ... between attempts: a handful of restarts in 4 s, not hundreds.
        assert 1 <= proc.restarts <= 4
        assert proc.delay >= 2.0
    finally:
        group.stop()


def test_a_failed_migration_stops_start_up(fake_python: str) -> None:
    group = Supervisor(
        1, consecutive_free_ports(1), python=fake_python, env={"FAKE_SERVE_CRASH": "1"}
    )
    with pytest.raises(ConfigurationError, match="migration failed"):
        group.start()
    assert group.processes[0].process is None


def test_run_restarts_on_crash_rolls_on_sighup_and_stops_on_sigterm(fake_python: str) -> None:
    base = consecutive_free_ports(2)
    code = (
        "import sys\n"
        "from gradio_portal.supervisor import Supervisor\n"
        f"sys.exit(Supervisor(2, {base}, python={fake_python!r}, migrate=False).run(interval=0.1))"
    )
    runner = subprocess.Popen(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: pid_on(base) and pid_on(base + 1), timeout=90)
        first = [pid_on(base), pid_on(base + 1)]

        os.kill(first[0], signal.SIGKILL)
        wait_for(lambda: pid_on(base) not in (first[0],))
        second = [pid_on(base), pid_on(base + 1)]
        assert second[1] == first[1]

        runner.send_signal(signal.SIGHUP)
        wait_for(lambda: pid_on(base) != second[0] and pid_on(base + 1) != second[1])

        runner.send_signal(signal.SIGTERM)
        assert runner.wait(timeout=30) == 0
        for port in (base, base + 1):
            with pytest.raises(OSError):
                pid_on(port)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
        output = runner.stdout.read().decode() if runner.stdout else ""
    assert f"process serving on http://127.0.0.1:{base}" in output
