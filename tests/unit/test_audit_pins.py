"""scripts/audit_pins.py on the real pyproject and on pyprojects with known-bad pins."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_script() -> ModuleType:
    # scripts/ is not a package: load the file the way ``python scripts/audit_pins.py`` would.
    spec = importlib.util.spec_from_file_location("audit_pins", ROOT / "scripts" / "audit_pins.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being created
    spec.loader.exec_module(module)
    return module


audit_pins = _load_script()


def _pyproject(tmp_path: Path, dependencies: list[str], test: list[str] | None = None) -> Path:
    lines = ["[project]", 'name = "x"', 'version = "0"', "dependencies = ["]
    lines += [f'  "{dep}",' for dep in dependencies]
    lines.append("]")
    if test is not None:
        lines += ["[project.optional-dependencies]", "test = ["]
        lines += [f'  "{dep}",' for dep in test]
        lines.append("]")
    path = tmp_path / "pyproject.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_real_pyproject_passes(capsys: pytest.CaptureFixture[str]) -> None:
    report = audit_pins.audit()
    assert report.ok, audit_pins.format_report(report)
    assert {pin.name for pin in report.pins} >= {"gradio", "starlette", "jinja2"}
    assert audit_pins.main([]) == 0
    assert "audit: ok" in capsys.readouterr().out


def test_old_gradio_fails_naming_the_advisories(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _pyproject(tmp_path, ["gradio==6.20.0", "starlette==1.10.0"])
    report = audit_pins.audit(path)
    assert not report.ok
    ids = {violation.advisory.id for violation in report.violations}
    assert ids == {"PR 13687", "PR 13749 (no advisory)"}
    assert audit_pins.main(["--pyproject", str(path)]) == 1
    out = capsys.readouterr().out
    assert "PR 13749" in out
    assert "FAIL gradio==6.20.0 < 6.24.0" in out
    assert "audit: FAILED" in out


@pytest.mark.parametrize(
    ("requirement", "advisory_id"),
    [
        ("uvicorn[standard]==0.11.6", "CVE-2020-7694"),  # extras are part of the pin
        ("Jinja2==3.1.4", "CVE-2024-56201 / GHSA-gmj6-6f8f-6699"),  # names are normalised
        ("python_multipart==0.0.17", "CVE-2024-53981 / GHSA-59g5-xgcq-4qw3"),
        ("starlette==0.39.2", "CVE-2024-47874 / GHSA-f96h-pmfr-66vw"),
        ("gradio==4.44.0 ; python_version >= '3.10'", "CVE-2024-47164 / GHSA-77xq-6g77-h274"),
    ],
)
def test_each_pin_is_checked(tmp_path: Path, requirement: str, advisory_id: str) -> None:
    report = audit_pins.audit(_pyproject(tmp_path, [requirement]))
    assert advisory_id in {violation.advisory.id for violation in report.violations}


def test_the_fixed_version_itself_passes(tmp_path: Path) -> None:
    assert audit_pins.audit(_pyproject(tmp_path, ["gradio==6.24.0", "jinja2==3.1.6"])).ok


@pytest.mark.parametrize("requirement", ["fastapi>=0.115", "fastapi", "fastapi==0.*"])
def test_unpinned_runtime_dependency_fails(
    tmp_path: Path, requirement: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _pyproject(tmp_path, [requirement])
    assert not audit_pins.audit(path).ok
    assert audit_pins.main(["--pyproject", str(path)]) == 1
    assert "UNPINNED" in capsys.readouterr().out


def test_unpinned_optional_dependency_only_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _pyproject(tmp_path, ["fastapi==0.165.0"], test=["pytest>=8"])
    assert audit_pins.main(["--pyproject", str(path)]) == 0
    assert "WARN 'pytest>=8' (test) is not pinned" in capsys.readouterr().out


def test_optional_dependencies_are_audited(tmp_path: Path) -> None:
    report = audit_pins.audit(_pyproject(tmp_path, [], test=["jinja2==3.1.2"]))
    assert {v.pin.group for v in report.violations} == {"test"}
    assert not report.ok


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


def test_pip_audit_missing_is_reported_not_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty PATH: no pip-audit to find
    assert audit_pins.main(["--pip-audit"]) == 0
    assert "pip-audit: unavailable" in capsys.readouterr().out
