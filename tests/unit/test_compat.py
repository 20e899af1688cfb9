"""The compatibility layer: one place that knows Gradio's internals, checked against Gradio."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from gradio_portal import ConfigurationError, Portal, PortalSettings
from gradio_portal.compat import SUPPORTED_GRADIO, check_gradio, gradio_version, supported_range
from gradio_portal.compat.internals import PRIVATE_NAMES, missing_names, private

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "gradio_portal"


def test_every_private_gradio_name_the_portal_uses_exists() -> None:
    assert missing_names() == []
    for module, name in PRIVATE_NAMES:
        assert private(module, name) is not None


def test_an_undeclared_private_name_is_refused() -> None:
    with pytest.raises(KeyError, match="PRIVATE_NAMES"):
        private("gradio.blocks", "Blocks")


def test_the_installed_gradio_is_supported() -> None:
    check_gradio()
    low, high = SUPPORTED_GRADIO
    major, minor = (int(part) for part in gradio_version().split(".")[:2])
    assert low <= (major, minor) < high


@pytest.mark.parametrize("installed", ["6.30.2", "7.0.0", "5.49.1", "garbage"])
def test_another_gradio_is_refused_with_both_versions_named(installed: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        check_gradio(installed)
    message = str(refused.value)
    assert f"Gradio {installed} is installed" in message
    assert supported_range() in message
    assert "pip install" in message


def test_a_portal_on_another_gradio_does_not_start(
    monkeypatch: pytest.MonkeyPatch, settings: PortalSettings
) -> None:
    monkeypatch.setattr("gradio_portal.compat.gradio_version", lambda: "7.1.0")
    with pytest.raises(ConfigurationError, match=r"Gradio 7\.1\.0 is installed"):
        Portal(settings=settings)


def test_private_gradio_modules_are_imported_by_the_compatibility_layer_only() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.is_relative_to(PACKAGE / "compat"):
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.relative_to(PACKAGE)}: {name}"
                for name in names
                if name.startswith("gradio.")
            ]
    assert offenders == []


def test_importing_the_package_changes_nothing_in_gradio() -> None:
    # A fresh interpreter: this test process has created portals already.
    script = """
import inspect, sys
import gradio.blocks, gradio.component_meta
before = {name for name, module in sys.modules.items() if module is None}
import gradio_portal
after = {name for name, module in sys.modules.items() if module is None}
assert gradio.blocks.inspect is inspect, "gradio.blocks patched"
assert gradio.component_meta.inspect is inspect, "gradio.component_meta patched"
assert after == before, f"sys.modules gained placeholders: {sorted(after - before)}"
assert "gradio_portal.chat" not in sys.modules, "the chat app was imported"
print("unchanged")
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("unchanged")
