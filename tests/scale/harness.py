"""This project's settings for gradio_portal.testing.cluster, which holds the machinery.

The scale tests run this repository's nginx template (``deploy/nginx.conf.template``) and the
Blocks of tests/scale/apps.py; :func:`run_cluster` is :meth:`Cluster.run` with those filled in.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from gradio_portal.testing.cluster import Cluster

__all__ = ["CHAT_PATH", "EVENTS_APP", "NGINX_TEMPLATE", "PASSWORD", "REPO", "USERS", "run_cluster"]

REPO = Path(__file__).resolve().parents[2]
NGINX_TEMPLATE = REPO / "deploy" / "nginx.conf.template"
PASSWORD = "scale test password"
USERS = ("alice", "bob", "carol", "dave")
EVENTS_APP = "tests.scale.apps:build_events_app"
CHAT_PATH = "/chat"  # where `gradio-portal serve` without TARGET mounts the built-in chat


@contextmanager
def run_cluster(
    workdir: Path,
    *,
    processes: int,
    database_url: str,
    redis_url: str | None,
    target: str | None = EVENTS_APP,
    path: str | None = "/app",
    extra_env: Mapping[str, str] | None = None,
) -> Iterator[Cluster]:
    """``processes`` portal processes serving ``target`` behind nginx, with :data:`USERS`."""
    with Cluster.run(
        workdir,
        processes=processes,
        database_url=database_url,
        redis_url=redis_url,
        nginx_template=NGINX_TEMPLATE,
        target=target,
        path=path,
        users=USERS,
        password=PASSWORD,
        extra_env=extra_env,
        cwd=REPO,
    ) as cluster:
        yield cluster
