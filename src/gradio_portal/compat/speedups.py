"""Speed-ups for three of Gradio's own hot paths, applied when the first portal is created.

Each one removes work Gradio repeats on every event without changing what it computes; the
chat benchmark (docs/benchmarks.md) measures them, and tests/unit/test_gradio_speedups.py
checks that the configuration Gradio sends to browsers is the same with and without them.

1. **A missing matplotlib is marked missing once.** Gradio tries ``import matplotlib`` around
   every event call and every streamed update; when it is not installed, each failed import
   rescans ``sys.path`` (about 40% of a streamed update's cost).
2. **Component signatures are computed once per class.** ``Block.get_config`` calls
   ``inspect.signature(cls.__init__)`` each time a component's configuration is built: for
   every component of the page when a browser session starts, and for every component an
   event updates. A component ``__init__`` has 30 to 60 parameters behind ``functools.wraps``,
   so this was about half of the CPU of a chat message's first event.
3. **Constructor argument lists are computed once per class.** Gradio rebuilds a component
   for every ``gr.update(...)`` an event returns, and its ``__init__`` wrapper calls
   ``inspect.getfullargspec`` on each construction.

Gradio reaches :mod:`inspect` through its modules' own ``inspect`` names, so 2 and 3 replace
those names in ``gradio.blocks`` and ``gradio.component_meta`` with a stand-in that caches the
two calls for ``__init__`` functions and passes everything else to :mod:`inspect` unchanged.
Functions are never changed after Gradio defines its classes, so a cached answer stays right.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
import weakref
from types import ModuleType
from typing import Any

__all__ = ["applied", "apply", "remove"]

_PATCHED_MODULES = ("gradio.blocks", "gradio.component_meta")


class CachingInspect:
    """Stands in for :mod:`inspect` inside a Gradio module; caches answers for ``__init__``s.

    Only calls with a single function argument named ``__init__`` are cached (keyed weakly by
    the function object); any other call, or any other attribute, is :mod:`inspect`'s own.
    """

    def __init__(self) -> None:
        self._signatures: weakref.WeakKeyDictionary[Any, inspect.Signature] = (
            weakref.WeakKeyDictionary()
        )
        self._argspecs: weakref.WeakKeyDictionary[Any, inspect.FullArgSpec] = (
            weakref.WeakKeyDictionary()
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(inspect, name)

    def signature(self, obj: Any, *args: Any, **kwargs: Any) -> inspect.Signature:
        if args or kwargs or not _is_init(obj):
            return inspect.signature(obj, *args, **kwargs)
        found = self._signatures.get(obj)
        if found is None:
            found = self._signatures[obj] = inspect.signature(obj)
        return found

    def getfullargspec(self, func: Any) -> inspect.FullArgSpec:
        if not _is_init(func):
            return inspect.getfullargspec(func)
        found = self._argspecs.get(func)
        if found is None:
            found = self._argspecs[func] = inspect.getfullargspec(func)
        return found


def _is_init(obj: Any) -> bool:
    return inspect.isfunction(obj) and obj.__name__ == "__init__"


def apply() -> None:
    """Apply the three speed-ups (once; calling again does nothing)."""
    if importlib.util.find_spec("matplotlib") is None:
        sys.modules.setdefault("matplotlib", None)  # type: ignore[arg-type]
    stand_in: CachingInspect | None = None
    for name in _PATCHED_MODULES:
        module = _module(name)
        if module is None or isinstance(getattr(module, "inspect", None), CachingInspect):
            continue
        if getattr(module, "inspect", None) is not inspect:
            continue  # a Gradio that no longer uses `inspect` this way: leave it alone
        stand_in = stand_in or CachingInspect()
        module.inspect = stand_in  # type: ignore[attr-defined]


def remove() -> None:
    """Undo all three: Gradio as it is without the portal (the benchmarks' bare baseline)."""
    if "matplotlib" in sys.modules and sys.modules["matplotlib"] is None:
        del sys.modules["matplotlib"]
    for name in _PATCHED_MODULES:
        module = _module(name)
        if module is not None and isinstance(getattr(module, "inspect", None), CachingInspect):
            module.inspect = inspect  # type: ignore[attr-defined]


def applied() -> bool:
    """Whether the signature caches are in place in every module they apply to."""
    modules = [m for m in map(_module, _PATCHED_MODULES) if m is not None]
    return bool(modules) and all(isinstance(m.inspect, CachingInspect) for m in modules)


def _module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None
