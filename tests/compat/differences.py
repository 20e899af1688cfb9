"""The differences between a bare Gradio app and the same app behind the portal that are
intended, each with its reason: the one place where the corpus allows a difference.

An entry names observations (a shell-style pattern over the names a visit records, see
:mod:`tests.compat.harness`), the apps it applies to (every app when ``apps`` is empty), and
exactly what differs: ``portal`` computes the value the portal side must show from the app and
the bare side's value, and ``bare``, when given, is what the bare side must show. Anything
else in those observations must still be equal.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.compat.harness import (
    ANONYMOUS,
    ANY_VALUE,
    CONSOLE,
    FAILED_RESPONSES,
    RUNS_SAVED,
    CompatApp,
)

__all__ = [
    "INTENDED",
    "PORTAL_SIDE",
    "IntendedDifference",
    "expected_values",
    "intended_for",
    "not_behind_portal",
]

PORTAL_SIDE = "portal side"
"""Pseudo-observation: an entry naming it keeps the app from being driven behind the portal."""

MONITORING_403 = "the server responded with a status of 403 (Forbidden)"


@dataclass(frozen=True)
class IntendedDifference:
    observations: str
    reason: str
    portal: Callable[[CompatApp, Any], Any] | None = None
    bare: Any = ANY_VALUE
    apps: tuple[str, ...] = ()

    def applies_to(self, app: CompatApp, observation: str) -> bool:
        return (not self.apps or app.name in self.apps) and fnmatch.fnmatchcase(
            observation, self.observations
        )


def _plus(*extra: str) -> Callable[[CompatApp, Any], Any]:
    """The bare side's list plus ``extra`` (``{path}`` is the app's mount path), sorted."""
    return lambda app, bare: sorted([*bare, *(e.format(path=app.path) for e in extra)])


INTENDED: tuple[IntendedDifference, ...] = (
    IntendedDifference(
        ANONYMOUS,
        "Sign-in is required behind the portal: a browser without a session asking for an "
        "app's page is sent to the login page, which brings it back to the page afterwards.",
        bare="200",
        portal=lambda app, bare: f"303 /login?next={app.path}/",
    ),
    IntendedDifference(
        RUNS_SAVED,
        "Gradio's run history is off behind the portal (the setting run_history, off by "
        "default): it would keep every input and output in the browser's storage, past "
        "sign-out. Bare, Gradio saves the runs of the page's events there.",
        portal=lambda app, bare: False,
    ),
    IntendedDifference(
        "*: footer",
        "Run history off (see above): bare, Gradio's footer links to the runs ('Runs') once "
        "the browser saved one; behind the portal it never does.",
        portal=lambda app, bare: [link for link in bare if link != "Runs"],
    ),
    IntendedDifference(
        FAILED_RESPONSES,
        "Gradio's monitoring summary (event counts and timings of every user) answers "
        "administrators only behind the portal; the API page asks for it, and an ordinary "
        "user gets 403 there.",
        portal=_plus("403 GET {path}/monitoring/summary"),
        apps=("api_visibility",),
    ),
    IntendedDifference(
        CONSOLE,
        "The same 403 of the monitoring summary, as Chromium logs it (see above).",
        portal=_plus(
            f"Failed to load resource: {MONITORING_403} [<server>{{path}}/monitoring/summary]"
        ),
        apps=("api_visibility",),
    ),
    IntendedDifference(
        PORTAL_SIDE,
        "MCP endpoint is checked separately in tests/integration/test_mcp.py",
        apps=("mcp",),
    ),
)


def intended_for(app: CompatApp, observation: str) -> IntendedDifference | None:
    """The entry that allows ``observation`` of ``app`` to differ, if any."""
    return next((d for d in INTENDED if d.applies_to(app, observation)), None)


def expected_values(app: CompatApp, observation: str, bare: Any) -> tuple[Any, Any] | None:
    """For an observation of ``app`` allowed to differ: (what the bare side must show, what
    the portal side must show), given the bare side's value; None when both must be equal."""
    difference = intended_for(app, observation)
    if difference is None or difference.portal is None:
        return None
    return difference.bare, difference.portal(app, bare)


def not_behind_portal(app: CompatApp) -> IntendedDifference | None:
    """The entry that keeps ``app`` from being driven behind the portal, if any."""
    return intended_for(app, PORTAL_SIDE)
