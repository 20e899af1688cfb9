"""Gradio's private functions and classes that the callback adapter needs, imported in one place.

Each is read after a Blocks is built, to re-derive what Gradio cached at registration when the
portal swaps an event's handler (see :mod:`gradio_portal.callbacks`). A Gradio release that
renames one does not break ``import gradio_portal``: the name is reported by
:func:`missing_names` and :func:`gradio_portal.compat.check_gradio` refuses to start a portal.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["PRIVATE_NAMES", "missing_names", "private"]

PRIVATE_NAMES: tuple[tuple[str, str], ...] = (
    ("gradio.block_function", "BlockFunction"),
    ("gradio.blocks", "_get_component_prop_inputs"),
    ("gradio.blocks", "_get_input_parameter_names"),
    ("gradio.blocks", "_get_input_parameter_positions"),
    ("gradio.context", "LocalContext"),
    ("gradio.helpers", "special_args"),
    ("gradio.route_utils", "get_root_url"),
    ("gradio.routes", "App"),
)
"""Every (module, name) of Gradio's that is not public API and that the portal uses."""


def private(module: str, name: str) -> Any:
    """One of :data:`PRIVATE_NAMES`, looked up when first needed."""
    if (module, name) not in PRIVATE_NAMES:
        raise KeyError(f"{module}.{name} is not declared in PRIVATE_NAMES")
    return getattr(importlib.import_module(module), name)


def missing_names() -> list[str]:
    """The names of :data:`PRIVATE_NAMES` that the installed Gradio does not have."""
    missing = []
    for module, name in PRIVATE_NAMES:
        try:
            private(module, name)
        except (ImportError, AttributeError):
            missing.append(f"{module}.{name}")
    return missing
