"""Check the pins in pyproject.toml against the advisory table in security/advisories.toml.

Usage::

    python scripts/audit_pins.py [--pyproject PATH] [--advisories PATH] [--pip-audit]

Exit status: 0 when every pinned version is at or above the ``fixed_in`` of each advisory for its
package and every runtime dependency is pinned (``name==version``); 1 otherwise; 2 when a file
cannot be read. With ``--pip-audit`` it also runs pip-audit on the pins: vulnerabilities it finds
fail the run, an unreachable service is only reported (these machines reach only the package
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
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

__all__ = [
    "DEFAULT_ADVISORIES",
    "DEFAULT_PYPROJECT",
    "Advisory",
    "AuditReport",
    "Pin",
    "PipAuditResult",
    "Violation",
    "audit",
    "format_report",
    "load_advisories",
    "main",
    "read_pins",
    "run_pip_audit",
]

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PYPROJECT = ROOT / "pyproject.toml"
DEFAULT_ADVISORIES = ROOT / "security" / "advisories.toml"
RUNTIME = "runtime"


@dataclass(frozen=True)
class Advisory:
    """One advisory: versions of ``package`` below ``fixed_in`` are affected."""

    package: str
    id: str
    summary: str
    fixed_in: Version
    source: str | None = None


@dataclass(frozen=True)
class Pin:
    """One dependency line; ``version`` is None when it is not pinned with ``==``."""

    name: str
    version: Version | None
    group: str  # "runtime" or the name of the optional-dependency group
    requirement: str


@dataclass(frozen=True)
class Violation:
    """A pin that is older than an advisory's fixed version."""

    pin: Pin
    advisory: Advisory


@dataclass(frozen=True)
class AuditReport:
    """Every pin read, the advisories each one violates, and the unpinned lines."""

    pins: tuple[Pin, ...]
    violations: tuple[Violation, ...]

    @property
    def unpinned(self) -> tuple[Pin, ...]:
        """Dependencies not pinned to one version."""
        return tuple(pin for pin in self.pins if pin.version is None)

    @property
    def ok(self) -> bool:
        """No violation and no unpinned runtime dependency (unpinned extras only warn)."""
        return not self.violations and not any(p.group == RUNTIME for p in self.unpinned)


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


def read_pins(path: Path = DEFAULT_PYPROJECT) -> list[Pin]:
    """Read ``project.dependencies`` and every ``project.optional-dependencies`` group."""
    project = tomllib.loads(path.read_text(encoding="utf-8")).get("project", {})
    groups: list[tuple[str, list[str]]] = [(RUNTIME, project.get("dependencies", []))]
    groups += sorted(project.get("optional-dependencies", {}).items())
    pins = []
    for group, lines in groups:
        for line in lines:
            try:
                requirement = Requirement(line)
            except InvalidRequirement as exc:
                raise ValueError(f"{path}: {group} dependency {line!r}: {exc}") from exc
            pins.append(
                Pin(canonicalize_name(requirement.name), _pinned_version(requirement), group, line)
            )
    return pins


def _pinned_version(requirement: Requirement) -> Version | None:
    specifiers = list(requirement.specifier)
    if len(specifiers) != 1 or specifiers[0].operator != "==" or "*" in specifiers[0].version:
        return None  # ranges, wildcards and ``===`` are not one reviewable version
    return Version(specifiers[0].version)


def audit(
    pyproject: Path = DEFAULT_PYPROJECT, advisories: Path = DEFAULT_ADVISORIES
) -> AuditReport:
    """Compare every pin in ``pyproject`` with every advisory for its package."""
    pins = read_pins(pyproject)
    table = load_advisories(advisories)
    violations = tuple(
        Violation(pin, advisory)
        for pin in pins
        if pin.version is not None
        for advisory in table
        if advisory.package == pin.name and pin.version < advisory.fixed_in
    )
    return AuditReport(pins=tuple(pins), violations=violations)


def format_report(report: AuditReport) -> str:
    """A table of pins with their status, then one line per violation and unpinned line."""
    rows = [("package", "pinned", "group", "status")]
    for pin in report.pins:
        hits = [v.advisory.id for v in report.violations if v.pin is pin]
        if pin.version is None:
            status = "UNPINNED" if pin.group == RUNTIME else "unpinned (warning)"
        else:
            status = "VULNERABLE: " + "; ".join(hits) if hits else "ok"
        rows.append((pin.name, str(pin.version or "-"), pin.group, status))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, [*widths, 0], strict=True)).rstrip()
        for row in rows
    ]
    for violation in report.violations:
        pin, advisory = violation.pin, violation.advisory
        lines.append(
            f"FAIL {pin.name}=={pin.version} < {advisory.fixed_in}: {advisory.id}: "
            f"{advisory.summary}; pin {pin.name}>={advisory.fixed_in}"
        )
    for pin in report.unpinned:
        level = "FAIL" if pin.group == RUNTIME else "WARN"
        lines.append(f"{level} {pin.requirement!r} ({pin.group}) is not pinned: use name==version")
    lines.append("audit: ok" if report.ok else "audit: FAILED")
    return "\n".join(lines)


def run_pip_audit(pins: Sequence[Pin], *, timeout: float = 300.0) -> PipAuditResult:
    """Run pip-audit on the pinned versions; "unavailable" when it cannot reach its service."""
    executable = shutil.which("pip-audit")
    if executable is None:
        return PipAuditResult("unavailable", "pip-audit is not installed (pip install pip-audit)")
    requirements = "".join(f"{p.name}=={p.version}\n" for p in pins if p.version is not None)
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
    parser.add_argument("--advisories", type=Path, default=DEFAULT_ADVISORIES)
    parser.add_argument("--pip-audit", action="store_true", help="also run pip-audit if reachable")
    args = parser.parse_args(argv)
    try:
        report = audit(args.pyproject, args.advisories)
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
