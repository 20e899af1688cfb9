"""scripts/audit_pins.py and scripts/lowest_constraints.py on the real pyproject and lock, and
on pyprojects and locks with known-bad versions or missing ranges."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_script(name: str) -> ModuleType:
    # scripts/ is not a package: load the file the way ``python scripts/<name>.py`` would,
    # with scripts/ on the path (lowest_constraints imports audit_pins).
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being created
    spec.loader.exec_module(module)
    return module


audit_pins = _load_script("audit_pins")
lowest_constraints = _load_script("lowest_constraints")
lock_script = _load_script("lock")


def _pyproject(
    tmp_path: Path, dependencies: list[str], extras: dict[str, list[str]] | None = None
) -> Path:
    lines = ["[project]", 'name = "x"', 'version = "0"', "dependencies = ["]
    lines += [f'  "{dep}",' for dep in dependencies]
    lines.append("]")
    if extras:
        lines.append("[project.optional-dependencies]")
        for group, deps in extras.items():
            lines += [f"{group} = [", *[f'  "{dep}",' for dep in deps], "]"]
    path = tmp_path / "pyproject.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _lock(tmp_path: Path, *pins: str) -> Path:
    path = tmp_path / "lock.txt"
    path.write_text("# a lock\n" + "".join(f"{pin}\n" for pin in pins), encoding="utf-8")
    return path


def _audit(tmp_path: Path, dependencies: list[str], *pins: str, **extras: list[str]) -> Any:
    return audit_pins.audit(_pyproject(tmp_path, dependencies, extras), lock=_lock(tmp_path, *pins))


def _failures(report: Any) -> list[str]:
    return [f"{p.dependency.name}: {p.message}" for p in report.problems if p.level == "FAIL"]


def test_real_pyproject_and_lock_pass(capsys: pytest.CaptureFixture[str]) -> None:
    report = audit_pins.audit()
    assert report.ok, audit_pins.format_report(report)
    runtime = {d.name for d in report.dependencies if d.group == "runtime"}
    assert runtime >= {"gradio", "fastapi", "starlette", "uvicorn", "jinja2", "pydantic"}
    assert {"psycopg", "redis"}.isdisjoint(runtime)  # extras, not runtime dependencies
    extras = {(d.name, d.group) for d in report.dependencies}
    assert {("psycopg", "postgres"), ("redis", "redis"), ("gradio", "mcp")} <= extras
    assert audit_pins.main([]) == 0
    out = capsys.readouterr().out
    assert "audit: ok" in out
    assert "gradio              >=6.31,<7" in out


def test_every_runtime_dependency_is_a_range_not_a_pin() -> None:
    for dependency in audit_pins.read_dependencies():
        if dependency.group in audit_pins.TOOL_GROUPS:
            continue
        assert dependency.lower is not None and dependency.upper_bounded, dependency
        assert not dependency.pinned, dependency


def test_the_lock_holds_every_extra() -> None:
    locked = {pin.name for pin in audit_pins.read_lock()}
    assert {"psycopg", "psycopg-binary", "redis", "mcp", "pytest", "playwright"} <= locked


def test_old_locked_gradio_fails_naming_the_advisories(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = _pyproject(tmp_path, ["gradio>=6.24,<7", "starlette>=1,<2"])
    lock = _lock(tmp_path, "gradio==6.20.0", "starlette==1.10.0")
    report = audit_pins.audit(pyproject, lock=lock)
    assert not report.ok
    ids = {violation.advisory.id for violation in report.violations}
    assert ids == {"PR 13687", "PR 13749 (no advisory)"}
    assert audit_pins.main(["--pyproject", str(pyproject), "--lock", str(lock)]) == 1
    out = capsys.readouterr().out
    assert "FAIL locked gradio==6.20.0 < 6.24.0: PR 13749" in out
    assert "locked at 6.20.0, outside its range" in out  # the lock is stale, too
    assert "audit: FAILED" in out


@pytest.mark.parametrize(
    ("pin", "advisory_id"),
    [
        ("uvicorn==0.11.6", "CVE-2020-7694"),
        ("Jinja2==3.1.4", "CVE-2024-56201 / GHSA-gmj6-6f8f-6699"),  # names are normalised
        ("python_multipart==0.0.17", "CVE-2024-53981 / GHSA-59g5-xgcq-4qw3"),
        ("starlette==0.39.2", "CVE-2024-47874 / GHSA-f96h-pmfr-66vw"),
        ("gradio==4.44.0", "CVE-2024-47164 / GHSA-77xq-6g77-h274"),
    ],
)
def test_each_locked_version_is_checked(tmp_path: Path, pin: str, advisory_id: str) -> None:
    # Packages the lock holds but pyproject does not name (dependencies of dependencies) too.
    report = _audit(tmp_path, [], pin)
    assert advisory_id in {violation.advisory.id for violation in report.violations}


def test_the_fixed_version_itself_passes(tmp_path: Path) -> None:
    report = _audit(
        tmp_path, ["gradio>=6.24,<7", "jinja2>=3.1.6,<4"], "gradio==6.24.0", "jinja2==3.1.6"
    )
    assert report.ok, audit_pins.format_report(report)


def test_a_range_that_admits_an_affected_version_fails(tmp_path: Path) -> None:
    report = _audit(tmp_path, ["jinja2>=3.1,<4"], "jinja2==3.1.6")
    assert not report.violations  # what is locked is fine...
    (failure,) = _failures(report)  # ...but a user may install 3.1.4 within the range
    assert "admits versions affected by" in failure and "raise its lower bound to >=3.1.6" in (
        failure
    )


@pytest.mark.parametrize(
    ("requirement", "says"),
    [
        ("fastapi==0.165.0", "is pinned"),
        ("fastapi", "has no range"),
        ("fastapi>=0.133", "has no range"),  # no upper bound
        ("fastapi<1", "has no range"),  # no lower bound
    ],
)
def test_runtime_dependency_without_a_range_fails(
    tmp_path: Path, requirement: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = _pyproject(tmp_path, [requirement])
    lock = _lock(tmp_path, "fastapi==0.165.0")
    assert audit_pins.main(["--pyproject", str(pyproject), "--lock", str(lock)]) == 1
    assert f"FAIL {requirement!r} (runtime) {says}" in capsys.readouterr().out


def test_extras_need_ranges_but_test_tools_only_warn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = _lock(tmp_path, "redis==8.1.0", "pytest==9.2.0")
    strict = _pyproject(tmp_path, [], {"redis": ["redis>=5"]})
    assert audit_pins.main(["--pyproject", str(strict), "--lock", str(lock)]) == 1
    tools = _pyproject(tmp_path, [], {"test": ["pytest>=9"]})
    assert audit_pins.main(["--pyproject", str(tools), "--lock", str(lock)]) == 0
    assert "WARN 'pytest>=9' (test) has no range" in capsys.readouterr().out


def test_a_stale_lock_fails(tmp_path: Path) -> None:
    missing = _audit(tmp_path, ["fastapi>=0.133,<1", "limits>=5.5,<6"], "fastapi==0.165.0")
    assert _failures(missing) == ["limits: is not in the lock: run `make lock`"]
    outside = _audit(tmp_path, ["fastapi>=0.133,<1"], "fastapi==0.120.0")
    assert "locked at 0.120.0, outside its range" in _failures(outside)[0]
    # A dependency that does not apply to this interpreter need not be locked.
    skipped = _audit(tmp_path, ["tomli>=2,<3 ; python_version < '3.11'"])
    assert skipped.ok, audit_pins.format_report(skipped)


def test_the_projects_own_extras_are_not_dependencies(tmp_path: Path) -> None:
    report = _audit(
        tmp_path, [], "redis==8.1.0", redis=["redis>=5,<9"], test=["x[redis]", "X[redis,mcp]"]
    )
    assert [d.name for d in report.dependencies] == ["redis"]
    assert report.ok


def test_advisory_table_is_well_formed() -> None:
    advisories = audit_pins.load_advisories()
    assert len(advisories) >= 19
    keys = [(a.package, a.id) for a in advisories]
    assert len(keys) == len(set(keys))


def test_broken_advisory_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "advisories.toml"
    broken.write_text('[[advisory]]\npackage = "gradio"\nid = "X"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="lacks"):
        audit_pins.load_advisories(broken)
    assert audit_pins.main(["--advisories", str(broken)]) == 2
    assert "fixed_in" in capsys.readouterr().err


def test_broken_lock_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lock = _lock(tmp_path, "fastapi>=0.133")
    assert audit_pins.main(["--lock", str(lock)]) == 2
    assert "lock.txt:2" in capsys.readouterr().err


def test_pip_audit_missing_is_reported_not_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty PATH: no pip-audit to find
    assert audit_pins.main(["--pip-audit"]) == 0
    assert "pip-audit: unavailable" in capsys.readouterr().out


def test_lowest_constraints_hold_every_lower_bound(tmp_path: Path) -> None:
    pyproject = _pyproject(
        tmp_path,
        ["uvicorn[standard]>=0.34,<1", "jinja2>=3.1.6,<4", "tomli>=2,<3 ; python_version < '3'"],
        {"mcp": ["gradio[mcp]>=6.31,<7"], "test": ["x[mcp]", "jinja2>=3.1.6,<4"]},
    )
    bounds = lowest_constraints.lowest(audit_pins.read_dependencies(pyproject))
    # Names without extras (pip refuses extras in constraints); markers that exclude this
    # interpreter leave a dependency out.
    assert bounds == {"gradio": "6.31", "jinja2": "3.1.6", "uvicorn": "0.34"}


def test_lowest_constraints_of_the_real_pyproject(capsys: pytest.CaptureFixture[str]) -> None:
    assert lowest_constraints.main([]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "gradio==6.31" in lines
    assert {line.split("==")[0] for line in lines[1:]} >= {"fastapi", "starlette", "psycopg"}


def test_the_lock_script_writes_what_the_audit_reads(tmp_path: Path) -> None:
    path = tmp_path / "lock.txt"
    assert lock_script.locked(path) == {}  # no lock yet: nothing to keep
    path.write_text(lock_script.render({"fastapi": "0.165.0", "pip": "26.3"}), encoding="utf-8")
    assert lock_script.locked(path) == {"fastapi": "0.165.0", "pip": "26.3"}
    assert [(pin.name, str(pin.version)) for pin in audit_pins.read_lock(path)] == [
        ("fastapi", "0.165.0"),
        ("pip", "26.3"),
    ]
    assert path.read_text(encoding="utf-8").startswith("# The exact versions")
