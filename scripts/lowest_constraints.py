"""Print a pip constraints file that holds every declared dependency at its lower bound.

Usage::

    python scripts/lowest_constraints.py [--pyproject PATH] > lowest.txt
    pip install -c lowest.txt -e '.[test]'

pip has no "lowest versions" mode, so ``make test-lowest`` installs with these constraints in a
fresh venv and runs the unit and integration tests there: what pyproject.toml declares as the
lowest supported release of each dependency (the library's, every extra's) is then what is
tested. Packages that are not declared (dependencies of dependencies) are left to the
resolver. Exit status 1 when a dependency has no lower bound (scripts/audit_pins.py explains).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from audit_pins import DEFAULT_PYPROJECT, Dependency, read_dependencies

__all__ = ["lowest", "main"]


def lowest(dependencies: Sequence[Dependency]) -> dict[str, str]:
    """``{name: lower bound}`` of every dependency that applies to this interpreter.

    A package declared in several groups gets the highest of its lower bounds (the only
    version every group admits, as ranges are declared here).
    """
    bounds: dict[str, Dependency] = {}
    for dependency in dependencies:
        if not dependency.applies:
            continue
        if dependency.lower is None:
            raise ValueError(f"{dependency.requirement!r} ({dependency.group}) has no lower bound")
        known = bounds.get(dependency.name)
        if known is None or known.lower is None or known.lower < dependency.lower:
            bounds[dependency.name] = dependency
    return {name: str(dependency.lower) for name, dependency in sorted(bounds.items())}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pyproject", type=Path, default=DEFAULT_PYPROJECT)
    args = parser.parse_args(argv)
    try:
        bounds = lowest(read_dependencies(args.pyproject))
    except (OSError, ValueError) as exc:
        print(f"lowest_constraints: {exc}", file=sys.stderr)
        return 1
    print(f"# The lower bound of every dependency declared in {args.pyproject.name}.")
    for name, version in bounds.items():
        print(f"{name}=={version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
