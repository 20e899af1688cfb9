"""The layers of docs/architecture.md, enforced: no upward import, no import cycle.

Every import counts, at module level, inside functions and under ``TYPE_CHECKING``: a
dependency is a dependency, whenever it is resolved.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "gradio_portal"

# Lowest first. A module may import its own layer and the layers below, never above.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("_errors", "_logs", "settings", "_runtime", "navigation", "compat", "observability"),
    ("storage",),
    ("users",),
    ("sessions",),
    ("pages", "context", "callbacks", "components", "auth", "mounts"),
    ("portal",),
    ("chat", "cli", "supervisor", "testing", "__init__", "__main__"),
)
LAYER_OF = {unit: index for index, units in enumerate(LAYERS) for unit in units}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _unit(module: str) -> str:
    """The top-level part of the package a module belongs to (``sessions``, ``portal``)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports() -> dict[str, set[str]]:
    """Module -> the gradio_portal modules it imports (anywhere in its code)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts}
    graph: dict[str, set[str]] = defaultdict(set)
    for module, path in modules.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                    base = f"{base}.{node.module}" if node.module else base
                # `from gradio_portal.x import y`: the module y if there is one, else x.
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                    for alias in node.names
                ]
            for target in targets:
                if target in modules and target != module:
                    graph[module].add(target)
    return graph


def test_every_top_level_module_has_a_layer() -> None:
    units = {_unit(_module_name(p)) for p in PACKAGE.rglob("*.py")}
    assert sorted(units - set(LAYER_OF)) == []


def test_no_module_imports_a_higher_layer() -> None:
    upward = [
        f"{module} (layer {LAYER_OF[_unit(module)]}) imports {target} "
        f"(layer {LAYER_OF[_unit(target)]})"
        for module, targets in _imports().items()
        for target in targets
        if LAYER_OF[_unit(target)] > LAYER_OF[_unit(module)]
    ]
    assert upward == []


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` (a path that returns to its start), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)) is not None:
            return found
    return None


def test_no_import_cycle_between_packages() -> None:
    units: dict[str, set[str]] = defaultdict(set)
    for module, targets in _imports().items():
        for target in targets:
            if _unit(target) != _unit(module):
                units[_unit(module)].add(_unit(target))
    assert _cycle(units) is None


def test_no_import_cycle_between_modules() -> None:
    graph = _imports()
    # A package's __init__ re-exports its modules; a module importing a sibling through the
    # package is still a dependency on that sibling, not on every module of the package.
    for module in list(graph):
        if (PACKAGE.parent / module.replace(".", "/") / "__init__.py").exists():
            graph[module] = {t for t in graph[module] if not t.startswith(module + ".")}
    assert _cycle(graph) is None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}}) is None
