"""Entry point of a benchmark server subprocess: ``python -m bench._serve FACTORY --port N ...``.

Pins itself to one core, builds the app named FACTORY from :mod:`bench._apps` and serves it
with one uvicorn worker. With ``--profile PATH`` the event-loop thread runs under pyinstrument
and the session is saved to PATH (pyinstrument's JSON) when the server stops.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import uvicorn

from gradio_portal._runtime import tune_garbage_collector
from gradio_portal.compat import speedups as _gradio_speedups


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("factory")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--core", type=int, default=0)
    parser.add_argument("--options", default="{}")
    parser.add_argument("--profile", type=Path)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {args.core})

    from bench import _apps

    options = json.loads(args.options)
    if args.factory.startswith("bare") or not options.get("gradio_speedups", True):
        # bench._apps imports the portal, which speeds up some of Gradio's own hot paths;
        # the baseline is Gradio as it ships.
        _gradio_speedups.remove()
    app = getattr(_apps, args.factory)(args.data_dir, options)
    # Every app, bare or portal, runs in a process tuned as `gradio-portal serve` tunes its own.
    tune_garbage_collector()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=args.port,
        workers=1,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=3,
    )
    server = uvicorn.Server(config)
    if args.profile is None:
        server.run()
        return
    from pyinstrument import Profiler

    # async_mode="disabled": sample what the event loop thread really runs (idle time shows
    # up as the selector's poll), rather than attributing awaits to coroutines.
    profiler = Profiler(interval=0.0005, async_mode="disabled")
    profiler.start()
    try:
        server.run()
    finally:
        profiler.stop()
        session = profiler.last_session
        if session is not None:
            session.save(str(args.profile))


if __name__ == "__main__":
    main()
