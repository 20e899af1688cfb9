"""``python -m bench``: run every benchmark and write docs/benchmarks.md.

Options: ``--only events,chat`` runs a subset and prints it (the report is written only with
``--output``, so a partial run never replaces the full one), ``--quick`` shrinks every load (a
smoke test of the harness, not figures to publish), ``--output PATH`` writes elsewhere.
The full run takes about 15 minutes on an otherwise idle 2-core machine (most of it the
chat load and 1,000 Argon2 logins), longer when other work shares the cores.
"""

from __future__ import annotations

import argparse
import datetime
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench._common import REPO, Section, load_average, machine_info, machine_table


def _scale(quick: bool) -> Section:
    """The multi-process benchmark, owned by bench/bench_scale.py, when it exists."""
    title = "6. Several processes behind nginx (bench/bench_scale.py)"
    try:
        from bench import bench_scale
    except ImportError:
        return Section(title, "bench/bench_scale.py is not in this tree: not measured.")
    began = time.monotonic()
    try:
        rows = bench_scale.run((1, 2), duration=5.0) if quick else bench_scale.run()
    except Exception as exc:  # PostgreSQL, Redis or nginx missing: say so, run the rest
        return Section(
            title,
            f"Not measured: `bench_scale.run()` failed ({type(exc).__name__}: {exc}). It "
            "needs PostgreSQL, Redis and nginx (`make system-deps`, services as in .ci/run).",
            seconds=time.monotonic() - began,
        )
    errors = [
        f"- first error with {r['processes']} process(es), {r['load']}: {r['first_error']}"
        for r in rows
        if r.get("first_error")
    ]
    body = (
        (bench_scale.__doc__ or "").split("\n\n")[0]
        + "\n\n"
        + bench_scale.table(rows)
        + ("\n\n" + "\n".join(errors) if errors else "")
    )
    return Section(title, body, data={"rows": rows}, seconds=time.monotonic() - began)


def benchmarks(quick: bool) -> dict[str, Callable[[], Section]]:
    from bench import (
        bench_chat,
        bench_events,
        bench_history,
        bench_memory,
        bench_micro,
        bench_navigation,
        bench_profile,
        bench_search,
    )

    if quick:
        return {
            "events": lambda: bench_events.run(events=60, rounds=3, warmup=10),
            "chat": lambda: bench_chat.run((10, 50), with_search=False),
            "memory": lambda: bench_memory.run(users=30),
            "navigation": lambda: bench_navigation.run(clicks=5, block=5),
            "history": lambda: bench_history.run(repeat=3),
            "search": lambda: bench_search.run(repeat=5, conversations=1_000),
            "scale": lambda: _scale(True),
            "profile": lambda: bench_profile.run(events=100, chat_users=20),
            "micro": bench_micro.run,
        }
    return {
        "events": bench_events.run,
        "chat": bench_chat.run,
        "memory": bench_memory.run,
        "navigation": lambda: bench_navigation.run(clicks=30),
        "history": bench_history.run,
        "search": bench_search.run,
        "scale": lambda: _scale(False),
        "profile": lambda: bench_profile.run(events=300, chat_users=30),
        "micro": bench_micro.run,
    }


HEADER = """# Benchmarks: gradio-portal against bare Gradio

Written by `make bench` (`python -m bench`) on {date}; {mode}. Each benchmark is a program in
`bench/` that also runs alone (`python -m bench.bench_events`, ...). Servers run in their own
subprocess (uvicorn, one worker) pinned to core 0; the load generator (httpx, or Chromium for
navigation) is pinned to core 1. Every ratio compares two apps measured in the same run.

{shared}

{machine}

Load average before the run: {load_before}; after: {load_after}. Total time: {total:.0f} s.
"""

SHARED = (
    "**The machine is shared**: the load generator takes the second core, and the machine's "
    "own services (PostgreSQL, Redis) and any other work run beside both; repeated runs of "
    "the same level differ by 5-10%, so absolute figures are noisy; ratios from interleaved "
    "runs and server CPU time per event are the more robust readings."
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", default="", help="comma-separated: " + ", ".join(benchmarks(False))
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="where to write the report (default: docs/benchmarks.md, for a full run only)",
    )
    parser.add_argument(
        "--shared",
        action="store_true",
        default=True,
        help="say in the report that other work shared the CPU (default)",
    )
    parser.add_argument("--dedicated", dest="shared", action="store_false")
    args = parser.parse_args()
    chosen = [name for name in args.only.split(",") if name] or list(benchmarks(args.quick))
    available = benchmarks(args.quick)
    unknown = [name for name in chosen if name not in available]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}: choose from {', '.join(available)}")
    output = args.output
    if output is None and not args.only:
        output = REPO / "docs" / "benchmarks.md"
    info = machine_info()
    began = time.monotonic()
    load_before = load_average()
    sections: list[Section] = []
    for name in chosen:
        print(f"== {name}", flush=True)
        try:
            section = available[name]()
        except Exception:
            section = Section(
                name, "This benchmark failed:\n\n```\n" + traceback.format_exc() + "```"
            )
        print(section.markdown(), flush=True)
        sections.append(section)
    header = HEADER.format(
        date=datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        mode="quick mode, smoke-test sizes" if args.quick else "full sizes",
        shared=SHARED if args.shared else "",
        machine=machine_table(info),
        load_before=load_before,
        load_after=load_average(),
        total=time.monotonic() - began,
    )
    findings = REPO / "bench" / "FINDINGS.md"
    parts = [header]
    if findings.exists() and not args.quick:
        parts.append(findings.read_text())
    parts += [section.markdown() for section in sections]
    if output is None:
        print("report not written (a partial run): pass --output PATH to write it")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("\n".join(parts))
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
