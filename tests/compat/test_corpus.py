"""Gradio compatibility corpus: Gradio features behave the same behind the portal as bare.

Each app of :mod:`tests.compat.apps` exercises one Gradio feature. It runs twice, in headless
Chromium: bare (``gr.mount_gradio_app(FastAPI(), ...)`` under uvicorn) and behind the portal
(signed in). The same driver plays the same clicks and inputs on both, and the test compares
what the pages rendered, the outputs of their events, the files they fetched and downloaded,
and the errors in the browser console. What this proves: for every feature in the corpus,
putting an app behind the portal changes nothing a signed-in user sees, except the differences
:mod:`tests.compat.differences` names, each with its reason.
"""

from __future__ import annotations

from functools import partial

import pytest
from tests.compat.apps import APPS
from tests.compat.differences import INTENDED, expected_values, not_behind_portal
from tests.compat.harness import STOPPED, CompatApp, Side, compare

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("app", APPS, ids=lambda app: app.name)
def test_the_app_behaves_the_same_behind_the_portal(
    app: CompatApp, bare: Side, behind_portal: Side
) -> None:
    bare_visit = bare.visit(app)
    assert STOPPED not in bare_visit.observed, (
        f"{app.name}: the driver does not complete on the bare side, so the corpus cannot "
        f"compare it: {bare_visit.observed[STOPPED]}\n{bare_visit.observed}\n"
        "what the pages asked the server:\n" + "\n".join(bare_visit.trail)
    )
    if not_behind_portal(app) is not None:
        return
    portal_visit = behind_portal.visit(app)
    problems = compare(bare_visit.observed, portal_visit.observed, partial(expected_values, app))
    if STOPPED in portal_visit.observed:
        problems += ["what the pages asked the portal:", *portal_visit.trail]
    assert not problems, f"{app.name} differs behind the portal:\n" + "\n".join(problems)


def test_every_intended_difference_names_apps_of_the_corpus() -> None:
    names = {app.name for app in APPS}
    for difference in INTENDED:
        assert set(difference.apps) <= names, difference
        assert difference.reason.strip(), difference


def test_the_corpus_covers_enough_features() -> None:
    names = [app.name for app in APPS]
    assert len(names) == len(set(names)), "two apps share a name (and a mount path)"
    assert len(APPS) >= 25
