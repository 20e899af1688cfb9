"""Adapts every event handler of a mounted Blocks: Context injection and Redirect handling.

Gradio reads a callback two ways when it calls it: ``inspect.signature`` (to place special
arguments such as ``gr.Request``) and ``typing.get_type_hints``. The adapter swaps each
handler for a wrapper of the same kind (plain, async, generator, async generator) whose
signature is the original one with every ``Context`` parameter re-annotated as ``gr.Request``.
Gradio then injects its request at that position, and the wrapper replaces it with a
:class:`Context` before calling the original. The wrapper also turns a :class:`Redirect` that
the handler raised, returned or yielded into the error message that the portal's browser
script recognises and follows. Each run is measured too: its duration and outcome (ok, error,
redirect, expired, cancelled) per app, generators running now, and the request id of the
``queue/join`` that started it, for the handler's log lines.

Events created inside ``@gr.render`` do not exist when the Blocks is mounted: Gradio builds
them for each page, every time the render function runs. The adapter wraps the render function
itself (so it may ask for a ``Context`` too), and that wrapper adapts the events each run
creates, in the page's own copy of the Blocks, before Gradio sends them to the browser.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import logging
import time
import typing
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Iterator
from types import TracebackType
from typing import Any

import gradio as gr
from sqlalchemy.exc import OperationalError
from starlette.requests import Request as StarletteRequest

from gradio_portal._errors import UNAVAILABLE, ConfigurationError, SessionExpired, SessionStoreError
from gradio_portal.compat.internals import private
from gradio_portal.context import Context, page_of
from gradio_portal.navigation.browser import navigate_error_message
from gradio_portal.navigation.redirect import Redirect
from gradio_portal.navigation.urls import is_safe_url, login_url
from gradio_portal.observability import REQUEST_ID, AppEvents, PortalMetrics
from gradio_portal.observability.metrics import EventOutcome

__all__ = ["CallbackAdapter"]

log = logging.getLogger("gradio_portal.navigation")
_WRAPPED = "__gradio_portal_wrapped__"
_UNAVAILABLE = (SessionStoreError, OperationalError)

UNSAFE_TARGET = (
    "Refused to navigate to an unsafe address: only paths of this site, or hosts listed in "
    "GRADIO_PORTAL_ALLOWED_REDIRECT_HOSTS, can be opened."
)


class CallbackAdapter:
    """Wraps the handlers of a Blocks; one instance per portal.

    With ``metrics``, every run of a handler is measured (see :meth:`adapt`).
    """

    def __init__(
        self,
        *,
        allowed_hosts: Collection[str] = (),
        login_path: str = "/login",
        metrics: PortalMetrics | None = None,
    ) -> None:
        self.allowed_hosts = tuple(allowed_hosts)
        self.login_path = login_path
        self.metrics = metrics
        # The gr.Request of the event running in this context (Gradio sets it for any handler).
        self.gradio_request = private("gradio.context", "LocalContext").request

    def adapt(self, blocks: gr.Blocks, *, app: str = "") -> int:
        """Wrap every handler of ``blocks`` (once); return how many were wrapped.

        A ``@gr.render`` function counts as one: the events it creates are wrapped each time
        it runs. ``app`` (the mount path) labels the runs in the metrics.
        """
        events = self.metrics.app_events(app) if self.metrics is not None else None
        return self._adapt_functions(blocks.fns.values(), events)

    def _adapt_functions(self, block_fns: Iterable[Any], events: AppEvents | None) -> int:
        count = 0
        for block_fn in list(block_fns):
            if block_fn.renderable is not None:
                count += self._adapt_render(block_fn, events)
                continue
            fn = block_fn.fn
            if fn is None or getattr(fn, _WRAPPED, False):
                continue
            context_params = _context_parameters(fn)
            block_fn.fn = self._wrap(fn, context_params, events)
            if context_params:
                _refresh_cached_analysis(block_fn)
            count += 1
        return count

    def _adapt_render(self, block_fn: Any, events: AppEvents | None) -> int:
        """Wrap a ``@gr.render`` function, so that it gets a Context and its events are adapted.

        Gradio's handler of a render event is ``Renderable.apply``, which calls the user's
        function (``renderable.fn``, the one Gradio inspects for special arguments) inside the
        page's copy of the Blocks; the events that run registers land in that copy.
        """
        renderable = block_fn.renderable
        assert renderable is not None
        render = renderable.fn
        if getattr(render, _WRAPPED, False):
            return 0
        adapter = self

        @functools.wraps(render)
        def render_and_adapt(*args: Any, **kwargs: Any) -> Any:
            result = render(*args, **kwargs)
            page_blocks = private("gradio.context", "LocalContext").blocks_config.get(None)
            if page_blocks is not None:
                adapter._adapt_functions(
                    (fn for fn in page_blocks.fns.values() if fn.rendered_in is renderable),
                    events,
                )
            return result

        context_params = _context_parameters(render)
        renderable.fn = self._wrap(render_and_adapt, context_params, events)
        if context_params:
            _refresh_cached_analysis(block_fn)
        return 1

    # -- navigation ------------------------------------------------------------------------

    def browser_error(self, target: Redirect) -> gr.Error:
        """The error that makes the portal's browser script navigate (or a refusal)."""
        if not is_safe_url(target.url, allowed_hosts=self.allowed_hosts):
            log.warning("refused unsafe redirect target %r", target.url[:200])
            return gr.Error(UNSAFE_TARGET, print_exception=False)
        return gr.Error(navigate_error_message(target.url, target.replace), print_exception=False)

    @staticmethod
    def unavailable(exc: Exception) -> gr.Error:
        """A readable error for a database or Redis outage inside a callback."""
        log.warning("dependency unavailable inside a callback: %s", exc)
        return gr.Error(UNAVAILABLE, print_exception=False)

    def _expired(self, request: gr.Request | None) -> gr.Error:
        page = "/"
        if request is not None and request.request is not None:
            page = page_of(request.request.headers, default="/")
        return self.browser_error(Redirect(login_url(page, login_path=self.login_path)))

    def _outcome(
        self, exc: BaseException | None, request: gr.Request | None
    ) -> tuple[EventOutcome, gr.Error | None]:
        """How a run that ended with ``exc`` counts, and the error the page gets instead."""
        if exc is None:
            return "ok", None
        if isinstance(exc, Redirect):
            return "redirect", self.browser_error(exc)
        if isinstance(exc, _UNAVAILABLE):
            return "error", self.unavailable(exc)
        if isinstance(exc, SessionExpired):
            # Signed out (or the account disabled) before or while the handler ran.
            return "expired", self._expired(request)
        if isinstance(exc, GeneratorExit | asyncio.CancelledError):
            return "cancelled", None  # stopped by the user, or the page closed
        return "error", None

    @staticmethod
    def _check_result(result: Any) -> Any:
        """``result``, unless it is or holds a Redirect: that is raised, as if the handler had."""
        if isinstance(result, Redirect):
            raise result
        if isinstance(result, tuple | list):
            for item in result:
                if isinstance(item, Redirect):
                    raise item
        return result

    # -- wrapping ---------------------------------------------------------------------------

    def _wrap(
        self, fn: Callable[..., Any], context_params: tuple[str, ...], events: AppEvents | None
    ) -> Callable[..., Any]:
        signature = inspect.signature(fn)
        if context_params:
            signature = signature.replace(
                parameters=[
                    p.replace(annotation=gr.Request) if p.name in context_params else p
                    for p in signature.parameters.values()
                ]
            )

        def prepare(
            args: tuple[Any, ...], kwargs: dict[str, Any], run: _Run
        ) -> tuple[tuple[Any, ...], dict[str, Any]]:
            """The arguments to call ``fn`` with; ``run.request``: the event's ``gr.Request``."""
            if not context_params:
                return args, kwargs
            bound = signature.bind_partial(*args, **kwargs)
            request = next(
                (bound.arguments[n] for n in context_params if n in bound.arguments), None
            )
            if isinstance(request, StarletteRequest):
                # Gradio's MCP server runs an unqueued tool with the bare HTTP request.
                request = gr.Request(request)
            if isinstance(request, Context):
                context = request
            else:
                run.request = request
                context = Context.from_request(request)  # type: ignore[arg-type]
            for name in context_params:
                bound.arguments[name] = context
            run.request = context.request
            return bound.args, bound.kwargs

        check = self._check_result
        wrapper: Any
        if inspect.isasyncgenfunction(fn):

            async def async_gen_wrapper(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
                with _Run(self, events, stream=True) as run:
                    a, k = prepare(args, kwargs, run)
                    # aclosing: when Gradio closes this wrapper (stop, disconnect), the
                    # handler's own finally blocks run now, not at garbage collection.
                    async with contextlib.aclosing(fn(*a, **k)) as items:
                        async for item in items:
                            yield check(item)

            wrapper = async_gen_wrapper
        elif inspect.isgeneratorfunction(fn):

            def gen_wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
                with _Run(self, events, stream=True) as run:
                    a, k = prepare(args, kwargs, run)
                    with contextlib.closing(fn(*a, **k)) as items:
                        for item in items:
                            yield check(item)

            wrapper = gen_wrapper
        elif inspect.iscoroutinefunction(fn):

            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with _Run(self, events, stream=False) as run:
                    a, k = prepare(args, kwargs, run)
                    return check(await fn(*a, **k))

            wrapper = async_wrapper
        else:

            def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
                with _Run(self, events, stream=False) as run:
                    a, k = prepare(args, kwargs, run)
                    return check(fn(*a, **k))

            wrapper = sync_wrapper

        functools.update_wrapper(wrapper, fn)
        # Gradio reads both: the signature (stop inspect from unwrapping to the original) and
        # the resolved type hints.
        del wrapper.__wrapped__
        wrapper.__signature__ = signature
        hints = _type_hints(fn)
        hints.update({name: gr.Request for name in context_params})
        wrapper.__annotations__ = hints
        setattr(wrapper, _WRAPPED, True)
        return wrapper  # type: ignore[no-any-return]


class _Run:
    """One run of a handler: what it ends with, as the page understands it (see
    :meth:`CallbackAdapter._outcome`); its outcome and duration in the app's metrics; and, for
    its log lines, the request id of the request that started the event."""

    __slots__ = ("adapter", "events", "request", "started", "stream")

    def __init__(self, adapter: CallbackAdapter, events: AppEvents | None, *, stream: bool) -> None:
        self.adapter = adapter
        self.events = events
        self.stream = stream
        self.request: gr.Request | None = None
        self.started = 0.0

    def __enter__(self) -> _Run:
        # Set, never reset: a sync handler runs in a copy of the context, and Gradio may run
        # each step of a generator in another one, where a reset would fail.
        REQUEST_ID.set(_request_id(self.adapter.gradio_request.get(None)))
        if self.events is not None:
            self.started = time.perf_counter()
            if self.stream:
                self.events.stream_started()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        outcome, replacement = self.adapter._outcome(exc, self.request)
        if self.events is not None:
            if self.stream:
                self.events.stream_ended()
            self.events.finished(outcome, time.perf_counter() - self.started)
        if replacement is not None:
            raise replacement from None


def _request_id(request: Any) -> str | None:
    """The ``X-Request-ID`` of Gradio's request (set by the portal for every request)."""
    if request is None:
        return None
    try:
        value = request.headers.get("x-request-id")
    except Exception:  # a request Gradio made up without headers
        return None
    return value if isinstance(value, str) else None


def _type_hints(fn: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn)
    except Exception:
        return dict(getattr(fn, "__annotations__", {}))


def _context_parameters(fn: Callable[..., Any]) -> tuple[str, ...]:
    """Names of the parameters annotated ``Context`` (or ``Context | None``)."""
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return ()
    try:
        hints = typing.get_type_hints(fn)
    except Exception as exc:
        raw = getattr(fn, "__annotations__", {})
        if any("Context" in str(v) for v in raw.values()):
            raise ConfigurationError(
                f"cannot resolve the annotations of {getattr(fn, '__qualname__', fn)!r} ({exc}). "
                "Import Context at module level (`from gradio_portal import Context`) so the "
                "portal can find the parameter it must fill."
            ) from exc
        return ()
    names = []
    for name in parameters:
        hint = hints.get(name)
        if hint is Context or (
            typing.get_origin(hint) in (typing.Union, _UnionType)
            and Context in typing.get_args(hint)
        ):
            names.append(name)
    return tuple(names)


_UnionType = type(int | None)


def _refresh_cached_analysis(block_fn: Any) -> None:
    """Recompute what Gradio derived from the handler's signature at registration.

    As Gradio does there: a render event's special arguments come from the render function,
    its input names from the event's own handler (``Renderable.apply``).
    """
    fn = block_fn.fn
    analyzed = block_fn.renderable.fn if block_fn.renderable is not None else fn
    assert fn is not None and analyzed is not None
    keyword_names = list(block_fn.input_keyword_names)
    positional_count = len(block_fn.inputs) - len(keyword_names)
    special_args = private("gradio.helpers", "special_args")
    parameter_names = private("gradio.blocks", "_get_input_parameter_names")
    parameter_positions = private("gradio.blocks", "_get_input_parameter_positions")
    component_prop_inputs = private("gradio.blocks", "_get_component_prop_inputs")
    _, progress_index, _, component_prop_indices = special_args(analyzed)
    block_fn.input_parameter_names = parameter_names(fn, positional_count, keyword_names)
    block_fn.component_prop_inputs = component_prop_inputs(
        analyzed,
        component_prop_indices or [],
        parameter_positions(analyzed, positional_count, keyword_names),
    )
    block_fn.tracks_progress = progress_index is not None
