"""tune_garbage_collector: what `gradio-portal serve` does to the collector before serving."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from gradio_portal import tune_garbage_collector
from gradio_portal._runtime import YOUNG_THRESHOLD


@pytest.fixture
def restored_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def test_start_up_objects_are_frozen_and_young_passes_are_rarer(restored_collector: None) -> None:
    gc.unfreeze()
    long_lived = [[n] for n in range(1000)]  # lists are tracked by the collector
    _, middle, old = gc.get_threshold()
    tune_garbage_collector()
    assert gc.get_freeze_count() >= len(long_lived)
    assert gc.get_threshold() == (YOUNG_THRESHOLD, middle, old)
    # Objects made afterwards are collected as usual.
    cycle: list[object] = []
    cycle.append(cycle)
    del cycle
    assert gc.collect() >= 1
