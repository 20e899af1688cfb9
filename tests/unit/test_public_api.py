"""The public surface: one curated, sorted list, every name importable."""

from __future__ import annotations

import gradio_portal


def test_all_is_sorted_and_complete() -> None:
    names = gradio_portal.__all__
    assert names == sorted(names)
    for name in names:
        assert hasattr(gradio_portal, name), name


def test_every_public_name_is_documented() -> None:
    for name in gradio_portal.__all__:
        value = getattr(gradio_portal, name)
        if callable(value):
            assert value.__doc__, f"{name} has no docstring"
