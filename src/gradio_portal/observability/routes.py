"""Route templates: the label a request gets in the metrics, whatever its raw path.

A raw path would give every session hash, event id and user id a series of its own. The
template is the route's own pattern (``/admin/users/{user_id}/disable``); under a mount, the
mount's path plus the route of the app mounted there (``/app/gradio_api/queue/join``), as deep
as mounts go; a path under a mount that none of its routes takes is the mount's
(``/app/{path}``); a path no route takes at all is ``unmatched``.

Templates are found the way Starlette routes (each route's own ``matches``; a route of
another method counts when none of this one does), after the response, and remembered per
method and path: a bounded table, emptied when full or when the
application's routes change (an app mounted while serving).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import fastapi.routing
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import Scope

__all__ = ["UNMATCHED", "RouteTemplates", "flat_routes", "is_mount"]

UNMATCHED = "unmatched"

# Recent FastAPI keeps an included router as one route of the application and lists what it
# includes through this; earlier versions copy those routes into the application's own list.
_iter_route_contexts = getattr(fastapi.routing, "iter_route_contexts", None)


def flat_routes(routes: Iterable[BaseRoute]) -> list[Any]:
    """``routes`` with each router included with ``include_router`` replaced by its routes, as
    the application matches them (its prefix included): each has ``matches``, and
    ``path_format`` and ``methods`` where the route has them; a mount keeps ``routes``."""
    if _iter_route_contexts is None:
        return list(routes)
    return list(_iter_route_contexts(list(routes)))


def is_mount(route: Any) -> bool:
    """Whether an entry of :func:`flat_routes` is a mount (of an app, or of static files)."""
    return isinstance(getattr(route, "original_route", route), Mount)


class RouteTemplates:
    """The route template of a path, for the routes of ``app`` (anything with ``.routes``)."""

    def __init__(self, app: Any, *, remember: int = 4096) -> None:
        self.app = app
        self.remember = remember
        self._known: dict[tuple[str, str], str] = {}
        self._route_count = -1

    def template(self, method: str, path: str, root_path: str = "") -> str:
        routes: Sequence[BaseRoute] = self.app.routes
        if len(routes) != self._route_count or len(self._known) >= self.remember:
            self._known.clear()
            self._route_count = len(routes)
        key = (method, path)
        found = self._known.get(key)
        if found is None:
            scope: Scope = {
                "type": "http",
                "method": method,
                "path": path,
                "root_path": root_path,
                "headers": [],
                "query_string": b"",
            }
            found = _find(flat_routes(routes), scope, "") or UNMATCHED
            self._known[key] = found
        return found


def _find(routes: Sequence[Any], scope: Scope, prefix: str) -> str | None:
    """The template of the route that takes ``scope``, as Starlette's router picks it."""
    partial = None
    for route in routes:
        match, child = route.matches(scope)
        if match is Match.NONE:
            continue
        if is_mount(route):
            inner = flat_routes(route.routes)
            found = _find(inner, {**scope, **child}, prefix + route.path) if inner else None
            template = found or prefix + route.path_format
        else:
            path_format = getattr(route, "path_format", None)
            if not isinstance(path_format, str):
                continue
            template = prefix + path_format
        if match is Match.FULL:
            return template
        partial = partial or template
    return partial
