"""The portal's metrics: one Prometheus registry per :class:`~gradio_portal.Portal`.

Each process serves its own ``/metrics`` (``serve --processes N`` runs one process per port;
Prometheus scrapes each), so counters are per process and sum across them. A registry of its
own per portal, not prometheus-client's global one, lets several portals live in one process
(tests do) without two of them claiming the same names; add your own metrics to
``portal.metrics.registry`` and they are served with the rest.

Label values are bounded: routes are templates (``/admin/users/{user_id}/disable``), never
raw paths; apps are mount paths; outcomes and operations are small fixed sets. Hot paths
reuse label children bound once (:meth:`PortalMetrics.request`, :class:`AppEvents`), so a
request or an event costs a dictionary lookup and an observation, not a ``labels()`` call.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal, get_args

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from sqlalchemy import event
from sqlalchemy.engine import Engine

__all__ = ["AppEvents", "ChatOutcome", "EventOutcome", "PortalMetrics", "SignInOutcome"]

EventOutcome = Literal["ok", "error", "redirect", "expired", "cancelled"]
SignInOutcome = Literal["success", "failure", "throttled", "refused"]
ChatOutcome = Literal["complete", "stopped", "failed"]

_EVENT_OUTCOMES: tuple[EventOutcome, ...] = ("ok", "error", "redirect", "expired", "cancelled")
_METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))
_STATEMENTS = frozenset(("SELECT", "INSERT", "UPDATE", "DELETE"))

# Seconds. Requests and events: from a few milliseconds to a long streamed reply.
_REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
# One query or one store call: sub-millisecond on a local file, more over a network.
_CALL_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5)


class AppEvents:
    """The event metrics of one mounted app, bound once and shared by its handlers."""

    __slots__ = ("_durations", "_streams")

    def __init__(self, durations: Histogram, streams: Gauge, app: str) -> None:
        self._durations = {o: durations.labels(app=app, outcome=o) for o in _EVENT_OUTCOMES}
        self._streams = streams.labels(app=app)

    def finished(self, outcome: EventOutcome, seconds: float) -> None:
        self._durations[outcome].observe(seconds)

    def stream_started(self) -> None:
        self._streams.inc()

    def stream_ended(self) -> None:
        self._streams.dec()


class PortalMetrics:
    """The metrics of one portal, in :attr:`registry` (see docs/operations.md for the list).

    Example::

        from prometheus_client import Counter

        reports = Counter("myapp_reports", "Reports built.", registry=portal.metrics.registry)
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)

        self.http_requests = Counter(
            "gradio_portal_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ("method", "route", "status"),
            registry=r,
        )
        self.http_request_duration = Histogram(
            "gradio_portal_http_request_duration_seconds",
            "Time from a request's arrival until its response ended (a stream: its length).",
            ("method", "route"),
            buckets=_REQUEST_BUCKETS,
            registry=r,
        )
        self.sign_ins = Counter(
            "gradio_portal_sign_ins",
            "Password sign-ins through the login form, by outcome.",
            ("outcome",),
            registry=r,
        )
        self.sessions_started = Counter(
            "gradio_portal_sessions_started",
            "Sessions created by this process (every kind of sign-in, and rotations).",
            registry=r,
        )
        self.sessions_ended = Counter(
            "gradio_portal_sessions_ended",
            "Sessions this process deleted: sign-outs, revocations, expiries it noticed.",
            registry=r,
        )
        self.gradio_event_duration = Histogram(
            "gradio_portal_gradio_event_duration_seconds",
            "Gradio event handlers run, by app (mount path) and outcome; _count counts events.",
            ("app", "outcome"),
            buckets=_REQUEST_BUCKETS,
            registry=r,
        )
        self.gradio_streams = Gauge(
            "gradio_portal_gradio_streams_in_progress",
            "Generator handlers running now, by app (mount path).",
            ("app",),
            registry=r,
        )
        self.chat_turns = Counter(
            "gradio_portal_chat_turns",
            "Chat replies finished, by outcome (complete, stopped by the user, failed).",
            ("outcome",),
            registry=r,
        )
        self.chat_tokens = Counter(
            "gradio_portal_chat_tokens",
            "Text pieces (tokens, for most backends) streamed by chat backends.",
            registry=r,
        )
        self.database_query_duration = Histogram(
            "gradio_portal_database_query_duration_seconds",
            "SQL statements executed, by kind (SELECT, INSERT, UPDATE, DELETE, OTHER).",
            ("statement",),
            buckets=_CALL_BUCKETS,
            registry=r,
        )
        self.session_store_call_duration = Histogram(
            "gradio_portal_session_store_call_duration_seconds",
            "Session store calls, by store (redis, sql) and operation.",
            ("store", "operation"),
            buckets=_CALL_BUCKETS,
            registry=r,
        )

        self._requests: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._sign_ins = {o: self.sign_ins.labels(outcome=o) for o in get_args(SignInOutcome)}
        self._chat_turns = {o: self.chat_turns.labels(outcome=o) for o in get_args(ChatOutcome)}
        self._statements = {
            s: self.database_query_duration.labels(statement=s) for s in (*_STATEMENTS, "OTHER")
        }

    # -- recording ----------------------------------------------------------------------------

    @staticmethod
    def method_label(method: str) -> str:
        """``method`` as a label: one of the usual methods, or ``other`` (any client may send
        any word as its method)."""
        return method if method in _METHODS else "other"

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request (``method``: a :meth:`method_label`; ``route``: a
        template, never a raw path)."""
        key = (method, route, status)
        children = self._requests.get(key)
        if children is None:
            children = (
                self.http_requests.labels(method=method, route=route, status=str(status)),
                self.http_request_duration.labels(method=method, route=route),
            )
            self._requests[key] = children
        counter, histogram = children
        counter.inc()
        histogram.observe(seconds)

    def sign_in(self, outcome: SignInOutcome) -> None:
        self._sign_ins[outcome].inc()

    def chat_turn(self, outcome: ChatOutcome, tokens: int) -> None:
        self._chat_turns[outcome].inc()
        if tokens:
            self.chat_tokens.inc(tokens)

    def app_events(self, app: str) -> AppEvents:
        """The event metrics of the app mounted at ``app``."""
        return AppEvents(self.gradio_event_duration, self.gradio_streams, app)

    def session_store_call(self, store: str) -> Callable[[str, float], None]:
        """A recorder of ``store``'s calls: ``record(operation, seconds)``."""
        children: dict[str, Any] = {}
        histogram = self.session_store_call_duration

        def record(operation: str, seconds: float) -> None:
            child = children.get(operation)
            if child is None:
                child = children[operation] = histogram.labels(store=store, operation=operation)
            child.observe(seconds)

        return record

    def watch_database(self, engine: Engine) -> None:
        """Time every SQL statement ``engine`` executes (SQLAlchemy cursor events)."""
        statements = self._statements
        other = statements["OTHER"]
        clock = time.perf_counter

        def before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
            conn.info.setdefault("gradio_portal_started", []).append(clock())

        def after(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
            started = conn.info["gradio_portal_started"].pop()
            child = statements.get(statement[:6].upper(), other)
            child.observe(clock() - started)

        def failed(context: Any) -> None:
            # A statement that raised never reaches after_cursor_execute.
            if context.connection is not None and context.cursor is not None:
                pending = context.connection.info.get("gradio_portal_started")
                if pending:
                    pending.pop()

        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        event.listen(engine, "handle_error", failed)
