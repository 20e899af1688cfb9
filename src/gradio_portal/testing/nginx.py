"""A private nginx in front of portal processes, rendered from a deployment's config template.

The template is the one you deploy with (this repository's is ``deploy/nginx.conf.template``,
see docs/deployment.md): nginx's own ``$variables`` stay, and four placeholders are filled in:
``${GP_LISTEN}``, ``${GP_UPSTREAM_SERVERS}``, ``${GP_LOG_DIR}`` and ``${GP_TEMP_DIR}``. The
nginx runs with ``-p <workdir>``: its logs, pid file and temporary files stay in that directory.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path

from gradio_portal.testing.ports import consecutive_free_ports, wait_for_port

__all__ = ["Nginx", "nginx_binary", "render_nginx_config"]

_PLACEHOLDER = re.compile(r"\$\{(GP_[A-Z_]+)\}")


def nginx_binary() -> str | None:
    """The nginx executable, or None when nginx is not installed."""
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
    """A private nginx in ``workdir`` in front of ``upstream_ports``, rendered from ``template``.

    Example::

        with Nginx(tmp_path, [8001, 8002], template=Path("deploy/nginx.conf.template")) as nginx:
            httpx.get(nginx.url + "/healthz")
    """

    def __init__(self, workdir: Path, upstream_ports: Sequence[int], *, template: Path) -> None:
        binary = nginx_binary()
        if binary is None:
            raise RuntimeError("nginx is not installed (Debian: apt-get install nginx-light)")
        self.binary = binary
        self.template = template
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
                self.template.read_text(),
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
            wait_for_port(self.port, timeout)
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

    def __enter__(self) -> Nginx:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
