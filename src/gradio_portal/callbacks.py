"""Adapts every event handler of a mounted Blocks: Context injection and Redirect handling.

Gradio reads a callback two ways when it calls it: ``inspect.signature`` (to place special
arguments such as ``gr.Request``) and ``typing.get_type_hints``. The adapter swaps each
handler for a wrapper of the same kind (plain, async, generator, async generator) whose
signature is the original one with every ``Context`` parameter re-annotated as ``gr.Request``.
Gradio then injects its request at that position, and the wrapper replaces it with a
:class:`Context` before calling the original. The wrapper also turns a :class:`Redirect` that
the handler raised, returned or yielded into the error message that the portal's browser
script recognises and follows.

Events created inside ``@gr.render`` do not exist when the Blocks is mounted: Gradio builds
them for each page, every time the render function runs. The adapter wraps the render function
itself (so it may ask for a ``Context`` too), and that wrapper adapts the events each run
creates, in the page's own copy of the Blocks, before Gradio sends them to the browser.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import typing
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Iterator
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

__all__ = ["CallbackAdapter"]

log = logging.getLogger("gradio_portal.navigation")
_WRAPPED = "__gradio_portal_wrapped__"
_UNAVAILABLE = (SessionStoreError, OperationalError)

UNSAFE_TARGET = (
    "Refused to navigate to an unsafe address: only paths of this site, or hosts listed in "
    "GRADIO_PORTAL_ALLOWED_REDIRECT_HOSTS, can be opened."
)


class CallbackAdapter:
    """Wraps the handlers of a Blocks; one instance per portal."""

    def __init__(self, *, allowed_hosts: Collection[str] = (), login_path: str = "/login") -> None:
        self.allowed_hosts = tuple(allowed_hosts)
        self.login_path = login_path

    def adapt(self, blocks: gr.Blocks) -> int:
        """Wrap every handler of ``blocks`` (once); return how many were wrapped.

        A ``@gr.render`` function counts as one: the events it creates are wrapped each time
        it runs.
        """
        return self._adapt_functions(blocks.fns.values())

    def _adapt_functions(self, block_fns: Iterable[Any]) -> int:
        count = 0
        for block_fn in list(block_fns):
            if block_fn.renderable is not None:
                count += self._adapt_render(block_fn)
                continue
            fn = block_fn.fn
            if fn is None or getattr(fn, _WRAPPED, False):
                continue
            context_params = _context_parameters(fn)
            block_fn.fn = self._wrap(fn, context_params)
            if context_params:
                _refresh_cached_analysis(block_fn)
            count += 1
        return count

    def _adapt_render(self, block_fn: Any) -> int:
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
                    fn for fn in page_blocks.fns.values() if fn.rendered_in is renderable
                )
            return result

        context_params = _context_parameters(render)
        renderable.fn = self._wrap(render_and_adapt, context_params)
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

    @contextlib.contextmanager
    def _translated(self, request: gr.Request | None) -> Iterator[None]:
        """What a handler raises, as the browser script and the page understand it."""
        try:
            yield
        except Redirect as target:
            raise self.browser_error(target) from None
        except _UNAVAILABLE as exc:
            raise self.unavailable(exc) from None
        except SessionExpired:
            # Signed out (or the account disabled) while the handler ran.
            raise self._expired(request) from None

    def _check_result(self, result: Any) -> Any:
        if isinstance(result, Redirect):
            raise self.browser_error(result)
        if isinstance(result, tuple | list):
            for item in result:
                if isinstance(item, Redirect):
                    raise self.browser_error(item)
        return result

    # -- wrapping ---------------------------------------------------------------------------

    def _wrap(self, fn: Callable[..., Any], context_params: tuple[str, ...]) -> Callable[..., Any]:
        signature = inspect.signature(fn)
        if context_params:
            signature = signature.replace(
                parameters=[
                    p.replace(annotation=gr.Request) if p.name in context_params else p
                    for p in signature.parameters.values()
                ]
            )

        def prepare(
            args: tuple[Any, ...], kwargs: dict[str, Any]
        ) -> tuple[tuple[Any, ...], dict[str, Any], Any]:
            """The arguments to call ``fn`` with, and the event's ``gr.Request`` if known."""
            if not context_params:
                return args, kwargs, None
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
                try:
                    context = Context.from_request(request)  # type: ignore[arg-type]
                except SessionExpired:
                    raise self._expired(request) from None
            for name in context_params:
                bound.arguments[name] = context
            return bound.args, bound.kwargs, context.request

        translated = self._translated
        wrapper: Any
        if inspect.isasyncgenfunction(fn):

            async def async_gen_wrapper(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
                a, k, request = prepare(args, kwargs)
                with translated(request):
                    # aclosing: when Gradio closes this wrapper (stop, disconnect), the
                    # handler's own finally blocks run now, not at garbage collection.
                    async with contextlib.aclosing(fn(*a, **k)) as items:
                        async for item in items:
                            yield self._check_result(item)

            wrapper = async_gen_wrapper
        elif inspect.isgeneratorfunction(fn):

            def gen_wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
                a, k, request = prepare(args, kwargs)
                with translated(request), contextlib.closing(fn(*a, **k)) as items:
                    for item in items:
                        yield self._check_result(item)

            wrapper = gen_wrapper
        elif inspect.iscoroutinefunction(fn):

            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                a, k, request = prepare(args, kwargs)
                with translated(request):
                    return self._check_result(await fn(*a, **k))

            wrapper = async_wrapper
        else:

            def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
                a, k, request = prepare(args, kwargs)
                with translated(request):
                    return self._check_result(fn(*a, **k))

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
