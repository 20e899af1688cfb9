"""Write requirements/lock.txt: the exact versions gradio-portal is tested with.

Usage::

    python scripts/lock.py [--upgrade | --upgrade-package NAME ...] [--output PATH]

pyproject.toml declares the ranges gradio-portal supports; the lock names one version of every
package that ``pip install -e '.[test]'`` installs (the runtime dependencies, every extra's and
their dependencies), and ``make`` installs with ``pip install -c requirements/lock.txt``, so
every venv and CI run gets the same versions. pip's own resolver makes the lock: a dry run of
that install (``--dry-run --ignore-installed --report``) on this interpreter and platform
(Python 3.11 on Linux x86-64: packages that other platforms need only are absent, and a
constraints file leaves absent packages free).

Without options the versions already in the lock are kept (given to the resolver as
constraints) and only what the lock lacks is resolved, as for a dependency just added to
pyproject.toml. ``--upgrade-package NAME`` frees NAME, ``--upgrade`` frees everything: each then
gets the newest release in its range. The pip that resolved is locked too.

Exit status: 0 when the lock was written, 1 when pip could not resolve (it says why).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path

from audit_pins import read_lock
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LOCK = ROOT / "requirements" / "lock.txt"
PROJECT = "gradio-portal"
HEADER = """\
# The exact versions gradio-portal is tested with, on Python {python} (Linux x86-64).
# pyproject.toml declares the supported ranges; this file is what `make` installs:
#     pip install -c requirements/lock.txt -e '.[test]'
# Made by `make lock` (scripts/lock.py): keeps these versions and adds what pyproject needs;
# `python scripts/lock.py --upgrade` (or --upgrade-package NAME) moves to the newest in range.
"""


def locked(path: Path) -> dict[str, str]:
    """``{name: version}`` of the lock at ``path``; {} when there is none yet."""
    try:
        return {pin.name: str(pin.version) for pin in read_lock(path)}
    except FileNotFoundError:
        return {}


def resolve(constraints: dict[str, str]) -> dict[str, str]:
    """What ``pip install -e '.[test]'`` would install, with ``constraints`` held."""
    with tempfile.TemporaryDirectory() as tmp:
        constraint_file = Path(tmp) / "constraints.txt"
        constraint_file.write_text(
            "".join(f"{name}=={pinned}\n" for name, pinned in sorted(constraints.items())),
            encoding="utf-8",
        )
        report = Path(tmp) / "report.json"
        command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed"]
        command += ["--quiet", "--report", str(report), "-c", str(constraint_file)]
        command += ["-e", f"{ROOT}[test]"]
        subprocess.run(command, check=True)
        installed = json.loads(report.read_text(encoding="utf-8"))["install"]
    resolved = {
        canonicalize_name(item["metadata"]["name"]): item["metadata"]["version"]
        for item in installed
    }
    resolved.pop(PROJECT, None)
    resolved["pip"] = version("pip")
    return resolved


def render(pins: dict[str, str]) -> str:
    python = ".".join(str(part) for part in sys.version_info[:2])
    lines = [f"{name}=={pinned}" for name, pinned in sorted(pins.items())]
    return HEADER.format(python=python) + "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--output", type=Path, default=DEFAULT_LOCK)
    free = parser.add_mutually_exclusive_group()
    free.add_argument("--upgrade", action="store_true", help="newest versions of everything")
    free.add_argument(
        "--upgrade-package", action="append", default=[], metavar="NAME", help="newest NAME"
    )
    args = parser.parse_args(argv)
    kept = {} if args.upgrade else locked(args.output)
    for name in args.upgrade_package:
        kept.pop(canonicalize_name(name), None)
    kept.pop("pip", None)  # the pip running this one is the pip that resolved
    try:
        pins = resolve(kept)
    except subprocess.CalledProcessError:
        print(
            "lock: pip could not resolve with the locked versions held; free the conflicting "
            "ones with --upgrade-package NAME, or everything with --upgrade",
            file=sys.stderr,
        )
        return 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render(pins), encoding="utf-8")
    dropped = sorted(set(kept) - set(pins))
    changed = sorted(name for name in pins if name in kept and kept[name] != pins[name])
    added = sorted(set(pins) - set(kept) - {"pip"})
    print(f"lock: {len(pins)} packages in {args.output}")
    for label, names in (("added", added), ("changed", changed), ("dropped", dropped)):
        if names:
            print(f"lock: {label}: {', '.join(names)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
