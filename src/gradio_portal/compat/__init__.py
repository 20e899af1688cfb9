"""The compatibility layer: everything gradio-portal knows about Gradio beyond its public API.

Gradio's private modules are imported here and nowhere else (:mod:`.internals`); so is the
knowledge of Gradio's route layout under a mount (:mod:`.routes`) and the speed-ups for its hot
paths (:mod:`.speedups`). A Gradio release outside :data:`SUPPORTED_GRADIO` may rename what
this layer uses, so :func:`check_gradio` refuses it with a message naming both versions, and
``tests/unit/test_compat.py`` checks that every private name used still exists.

Importing this package changes nothing in Gradio or in ``sys.modules``; :func:`prepare` (called
when a :class:`~gradio_portal.Portal` is created) checks the version and applies the speed-ups.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from gradio_portal._errors import ConfigurationError
from gradio_portal.compat import speedups

__all__ = ["SUPPORTED_GRADIO", "check_gradio", "gradio_version", "prepare"]

SUPPORTED_GRADIO = ((6, 31), (7, 0))
"""Gradio releases this layer supports: from 6.31 (inclusive) up to 7.0 (exclusive)."""


def supported_range() -> str:
    (low_major, low_minor), (high_major, high_minor) = SUPPORTED_GRADIO
    return f">={low_major}.{low_minor},<{high_major}.{high_minor}"


def gradio_version() -> str:
    """The installed Gradio's version, as its package metadata says."""
    try:
        return version("gradio")
    except PackageNotFoundError:  # pragma: no cover - gradio is a dependency
        return "not installed"


def _release(text: str) -> tuple[int, int] | None:
    parts = text.split(".")
    try:
        return int(parts[0]), int("".join(c for c in parts[1] if c.isdigit()) or "0")
    except (IndexError, ValueError):
        return None


def check_gradio(installed: str | None = None) -> None:
    """Raise :class:`ConfigurationError` unless Gradio ``installed`` is a supported release."""
    from gradio_portal.compat.internals import missing_names

    installed = installed or gradio_version()
    release = _release(installed)
    low, high = SUPPORTED_GRADIO
    if release is None or not low <= release < high:
        raise ConfigurationError(
            f"gradio-portal supports Gradio {supported_range()}, but Gradio {installed} is "
            f"installed: run `pip install 'gradio{supported_range()}'`, or upgrade "
            "gradio-portal to a release that supports this Gradio"
        )
    missing = missing_names()
    if missing:
        raise ConfigurationError(
            f"Gradio {installed} lacks internals that gradio-portal uses ({', '.join(missing)}): "
            f"run `pip install 'gradio{supported_range()}'`"
        )


def prepare() -> None:
    """Check the installed Gradio and apply the speed-ups (idempotent)."""
    check_gradio()
    speedups.apply()
