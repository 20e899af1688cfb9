"""The methods a path allows: the ``Allow`` header of a 405, and the answer to ``OPTIONS``.

FastAPI registers one route per method (``GET /login`` and ``POST /login`` are two), and
Starlette answers a method that none of them takes with the 405 of the first one, whose
``Allow`` names that route's methods alone. :func:`answer_allowed_methods` completes it: a
405 of the application's own routes lists the methods of every route of the path, and
``OPTIONS`` on such a path answers ``204`` with that list. Apps mounted under the application
(Gradio's) answer for themselves.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable

from fastapi import FastAPI
from fastapi.exception_handlers import http_exception_handler
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

from gradio_portal.observability.routes import flat_routes, is_mount

__all__ = ["allowed_methods", "answer_allowed_methods"]


def allowed_methods(routes: Iterable[BaseRoute], scope: Scope) -> set[str]:
    """The methods of every route (mounts aside) whose path ``scope`` matches."""
    methods: set[str] = set()
    for route in flat_routes(routes):
        route_methods = getattr(route, "methods", None)
        if is_mount(route) or not route_methods:
            continue
        match, _ = route.matches(scope)
        if match is not Match.NONE:
            methods.update(route_methods)
    return methods


def answer_allowed_methods(app: FastAPI) -> None:
    """Make ``app``'s 405 answers list every method of the path, and answer ``OPTIONS``.

    Wraps the HTTP error handler ``app`` has (FastAPI's by default); every other error goes
    to that handler unchanged.
    """
    previous = app.exception_handlers.get(HTTPException, http_exception_handler)

    async def method_not_allowed(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 405:
            methods = allowed_methods(app.routes, request.scope)
            if methods:
                allow = ", ".join(sorted(methods | {"OPTIONS"}))
                if request.method == "OPTIONS":
                    return Response(status_code=204, headers={"allow": allow})
                exc.headers = {**(exc.headers or {}), "Allow": allow}
        response = previous(request, exc)
        if inspect.isawaitable(response):
            response = await response
        assert isinstance(response, Response)
        return response

    app.add_exception_handler(HTTPException, method_not_allowed)
