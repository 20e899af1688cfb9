"""Check the declared ranges and the locked versions against security/advisories.toml.

Usage::

    python scripts/audit_pins.py [--pyproject PATH] [--lock PATH] [--advisories PATH] [--pip-audit]

pyproject.toml declares a range for every dependency (``name>=LOWEST,<NEXT_MAJOR``) and
requirements/lock.txt holds the exact versions the project is tested with. The audit fails when

- a locked version is older than the ``fixed_in`` of an advisory for its package;
- a dependency of the library or of one of its extras has no range (no lower or no upper
  bound), or is pinned with ``==`` in pyproject (exact versions belong in the lock); in the
  ``test`` extra (tools, not something users install) these only warn;
- a range admits versions an advisory affects (its lower bound is below ``fixed_in``);
- the lock is stale: a declared dependency is missing from it, or locked outside its range.

Exit status: 0 when nothing fails; 1 otherwise; 2 when a file cannot be read. With
``--pip-audit`` it also runs pip-audit on the locked versions: vulnerabilities it finds fail
the run, an unreachable service is only reported (these machines reach only the package
registries, where pip-audit skips every package as "not found").
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

__all__ = [
    "DEFAULT_ADVISORIES",
    "DEFAULT_LOCK",
    "DEFAULT_PYPROJECT",
    "TOOL_GROUPS",
    "Advisory",
    "AuditReport",
    "Dependency",
    "Pin",
    "PipAuditResult",
    "Problem",
    "Violation",
    "audit",
    "format_report",
    "load_advisories",
    "main",
    "read_dependencies",
    "read_lock",
    "run_pip_audit",
]

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PYPROJECT = ROOT / "pyproject.toml"
DEFAULT_LOCK = ROOT / "requirements" / "lock.txt"
DEFAULT_ADVISORIES = ROOT / "security" / "advisories.toml"
RUNTIME = "runtime"
TOOL_GROUPS = frozenset({"test"})
"""Extras of development tools: a missing range there warns instead of failing."""


@dataclass(frozen=True)
class Advisory:
    """One advisory: versions of ``package`` below ``fixed_in`` are affected."""

    package: str
    id: str
    summary: str
    fixed_in: Version
    source: str | None = None


@dataclass(frozen=True)
class Dependency:
    """One dependency line of pyproject.toml."""

    name: str
    specifier: SpecifierSet
    group: str  # "runtime" or the name of the optional-dependency group
    requirement: str
    applies: bool = True  # False when its environment marker excludes this interpreter

    @property
    def lower(self) -> Version | None:
        """The lowest version the range admits (from ``>=``, ``>``, ``==`` or ``~=``)."""
        bounds = [
            Version(spec.version)
            for spec in self.specifier
            if spec.operator in (">=", ">", "==", "~=") and "*" not in spec.version
        ]
        return max(bounds, default=None)

    @property
    def range(self) -> str:
        """The specifiers, lower bound first: ``>=6.31,<7``."""
        order = {">=": 0, ">": 0, "~=": 1, "==": 1, "===": 1, "!=": 2, "<=": 3, "<": 3}
        specs = sorted(self.specifier, key=lambda spec: (order[spec.operator], spec.version))
        return ",".join(str(spec) for spec in specs)

    @property
    def upper_bounded(self) -> bool:
        return any(spec.operator in ("<", "<=", "==", "~=") for spec in self.specifier)

    @property
    def pinned(self) -> bool:
        return any(spec.operator in ("==", "===") for spec in self.specifier)


@dataclass(frozen=True)
class Pin:
    """One ``name==version`` line of the lock."""

    name: str
    version: Version


@dataclass(frozen=True)
class Violation:
    """A locked version older than an advisory's fixed version."""

    pin: Pin
    advisory: Advisory


@dataclass(frozen=True)
class Problem:
    """A declared dependency the audit objects to; ``level`` is "FAIL" or "WARN"."""

    level: str
    dependency: Dependency
    message: str


@dataclass(frozen=True)
class AuditReport:
    """What was declared and locked, the advisories the lock violates, and the problems."""

    dependencies: tuple[Dependency, ...]
    pins: tuple[Pin, ...]
    violations: tuple[Violation, ...]
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        """No violation and no failing problem (warnings pass)."""
        return not self.violations and all(p.level != "FAIL" for p in self.problems)


@dataclass(frozen=True)
class PipAuditResult:
    """``status`` is "clean", "vulnerable" or "unavailable"; ``detail`` says why."""

    status: str
    detail: str


def load_advisories(path: Path = DEFAULT_ADVISORIES) -> list[Advisory]:
    """Read ``[[advisory]]`` entries (package, id, summary, fixed_in, optional source)."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    advisories = []
    for index, entry in enumerate(data.get("advisory", [])):
        missing = {"package", "id", "summary", "fixed_in"} - entry.keys()
        if missing:
            raise ValueError(f"{path}: advisory #{index + 1} lacks {sorted(missing)}")
        try:
            fixed_in = Version(entry["fixed_in"])
        except InvalidVersion as exc:
            raise ValueError(f"{path}: advisory {entry['id']!r}: bad fixed_in: {exc}") from exc
        advisories.append(
            Advisory(
                package=canonicalize_name(entry["package"]),
                id=entry["id"],
                summary=entry["summary"],
                fixed_in=fixed_in,
                source=entry.get("source"),
            )
        )
    return advisories


def read_dependencies(path: Path = DEFAULT_PYPROJECT) -> list[Dependency]:
    """``project.dependencies`` and every ``project.optional-dependencies`` group, except the
    project's own extras named inside them (``gradio-portal[postgres]`` in ``test``)."""
    project = tomllib.loads(path.read_text(encoding="utf-8")).get("project", {})
    own = canonicalize_name(project.get("name", ""))
    groups: list[tuple[str, list[str]]] = [(RUNTIME, project.get("dependencies", []))]
    groups += sorted(project.get("optional-dependencies", {}).items())
    dependencies = []
    for group, lines in groups:
        for line in lines:
            try:
                requirement = Requirement(line)
            except InvalidRequirement as exc:
                raise ValueError(f"{path}: {group} dependency {line!r}: {exc}") from exc
            name = canonicalize_name(requirement.name)
            if name == own:
                continue
            applies = requirement.marker is None or requirement.marker.evaluate({"extra": group})
            dependencies.append(Dependency(name, requirement.specifier, group, line, applies))
    return dependencies


def read_lock(path: Path = DEFAULT_LOCK) -> list[Pin]:
    """The ``name==version`` lines of a lock (comments and blank lines skipped)."""
    pins = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, separator, pinned = line.partition("==")
        try:
            if not separator:
                raise InvalidVersion("not name==version")
            pins.append(Pin(canonicalize_name(name.strip()), Version(pinned.strip())))
        except InvalidVersion as exc:
            raise ValueError(f"{path}:{number}: {raw!r}: {exc}") from exc
    return pins


def _problems(
    dependency: Dependency, locked: dict[str, Version], advisories: Sequence[Advisory]
) -> list[Problem]:
    level = "WARN" if dependency.group in TOOL_GROUPS else "FAIL"
    found = []
    lower = dependency.lower
    if dependency.pinned:
        found.append(
            Problem(
                level,
                dependency,
                "is pinned: declare the range it supports (>=LOWEST,<NEXT_MAJOR); "
                "exact versions belong in requirements/lock.txt",
            )
        )
    elif lower is None or not dependency.upper_bounded:
        found.append(
            Problem(
                level,
                dependency,
                "has no range: declare >=LOWEST,<NEXT_MAJOR (the lowest version tested by "
                "`make test-lowest`)",
            )
        )
    admitted = [
        advisory
        for advisory in advisories
        if advisory.package == dependency.name and (lower is None or lower < advisory.fixed_in)
    ]
    if admitted:
        found.append(
            Problem(
                "FAIL",
                dependency,
                f"admits versions affected by {'; '.join(a.id for a in admitted)}: raise its "
                f"lower bound to >={max(a.fixed_in for a in admitted)}",
            )
        )
    if dependency.applies:
        version = locked.get(dependency.name)
        if version is None:
            found.append(Problem("FAIL", dependency, "is not in the lock: run `make lock`"))
        elif not dependency.specifier.contains(version, prereleases=True):
            found.append(
                Problem(
                    "FAIL",
                    dependency,
                    f"is locked at {version}, outside its range: run "
                    f"`python scripts/lock.py --upgrade-package {dependency.name}`",
                )
            )
    return found


def audit(
    pyproject: Path = DEFAULT_PYPROJECT,
    advisories: Path = DEFAULT_ADVISORIES,
    lock: Path = DEFAULT_LOCK,
) -> AuditReport:
    """Compare the lock with every advisory, and each declared range with the advisories and
    the lock."""
    dependencies = read_dependencies(pyproject)
    pins = read_lock(lock)
    table = load_advisories(advisories)
    violations = tuple(
        Violation(pin, advisory)
        for pin in pins
        for advisory in table
        if advisory.package == pin.name and pin.version < advisory.fixed_in
    )
    locked = {pin.name: pin.version for pin in pins}
    problems = tuple(
        problem for dependency in dependencies for problem in _problems(dependency, locked, table)
    )
    return AuditReport(tuple(dependencies), tuple(pins), violations, problems)


def format_report(report: AuditReport) -> str:
    """A table of the declared dependencies with their locked version and status, then one
    line per violation and problem."""
    locked = {pin.name: pin.version for pin in report.pins}
    rows = [("package", "range", "locked", "group", "status")]
    for dependency in report.dependencies:
        levels = {p.level for p in report.problems if p.dependency is dependency}
        status = "FAIL" if "FAIL" in levels else "warning" if levels else "ok"
        version = locked.get(dependency.name)
        rows.append(
            (
                dependency.name,
                dependency.range or "-",
                str(version) if version else "-",
                dependency.group,
                status,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, [*widths, 0], strict=True)).rstrip()
        for row in rows
    ]
    for violation in report.violations:
        pin, advisory = violation.pin, violation.advisory
        lines.append(
            f"FAIL locked {pin.name}=={pin.version} < {advisory.fixed_in}: {advisory.id}: "
            f"{advisory.summary}; run `python scripts/lock.py --upgrade-package {pin.name}` "
            f"with a range that starts at >={advisory.fixed_in}"
        )
    for problem in report.problems:
        dependency = problem.dependency
        lines.append(
            f"{problem.level} {dependency.requirement!r} ({dependency.group}) {problem.message}"
        )
    vulnerable = {v.pin.name for v in report.violations}
    lines.append(
        f"{len(report.pins)} locked versions checked against the advisories, "
        f"{len(vulnerable)} affected"
    )
    lines.append("audit: ok" if report.ok else "audit: FAILED")
    return "\n".join(lines)


def run_pip_audit(pins: Sequence[Pin], *, timeout: float = 300.0) -> PipAuditResult:
    """Run pip-audit on the locked versions; "unavailable" when it cannot reach its service."""
    executable = shutil.which("pip-audit")
    if executable is None:
        return PipAuditResult("unavailable", "pip-audit is not installed (pip install pip-audit)")
    requirements = "".join(f"{p.name}=={p.version}\n" for p in pins)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "requirements.txt"
        path.write_text(requirements, encoding="utf-8")
        command = [executable, "-r", str(path), "--no-deps", "--disable-pip"]
        command += ["--format", "json", "--progress-spinner", "off"]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            return PipAuditResult("unavailable", f"pip-audit did not finish in {timeout:.0f} s")
    try:
        dependencies = json.loads(done.stdout)["dependencies"]
    except (ValueError, KeyError, TypeError):
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return PipAuditResult("unavailable", f"pip-audit exited {done.returncode}: {last}")
    audited = [d for d in dependencies if "skip_reason" not in d]
    if dependencies and not audited:
        # What a registry-only network looks like: pip-audit exits 0 having checked nothing.
        reason = dependencies[0]["skip_reason"]
        return PipAuditResult("unavailable", f"every package was skipped, e.g. {reason}")
    found = [
        f"{d['name']}=={d['version']}: {v['id']} (fixed in {', '.join(v.get('fix_versions', []))})"
        for d in audited
        for v in d.get("vulns", [])
    ]
    skipped = len(dependencies) - len(audited)
    note = f"{len(audited)} audited, {skipped} skipped"
    if found:
        return PipAuditResult("vulnerable", f"{note}\n" + "\n".join(found))
    return PipAuditResult("clean", note)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the audit table and return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pyproject", type=Path, default=DEFAULT_PYPROJECT)
    parser.add_argument("--lock", type=Path, default=DEFAULT_LOCK)
    parser.add_argument("--advisories", type=Path, default=DEFAULT_ADVISORIES)
    parser.add_argument("--pip-audit", action="store_true", help="also run pip-audit if reachable")
    args = parser.parse_args(argv)
    try:
        report = audit(args.pyproject, args.advisories, args.lock)
    except (OSError, ValueError) as exc:  # TOMLDecodeError is a ValueError
        print(f"audit_pins: {exc}", file=sys.stderr)
        return 2
    print(format_report(report))
    status = 0 if report.ok else 1
    if args.pip_audit:
        result = run_pip_audit(report.pins)
        print(f"pip-audit: {result.status}: {result.detail}")
        if result.status == "vulnerable":
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
