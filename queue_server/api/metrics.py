"""Prometheus metrics (`GET /metrics`, text format) and the readiness probe.

Counts and durations only, never a number a visitor holds or anything personal. Office figures
(tickets issued, calls, waits) come from the ordered event stream every process receives, so each
process reports the office's totals: scrape one, or take the max across processes. Request
latency, WebSocket clients, recompute time and relay pushes and pulls are per process.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Summary,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from queue_server.api.deps import ContainerDep
from queue_server.api.errors import ApiError

if TYPE_CHECKING:
    from queue_server.api.deps import Container
    from queue_server.api.relay_pull import RelayPuller
    from queue_server.api.relay_push import RelayPusher

router = APIRouter()
_WAIT_BUCKETS = (60, 300, 600, 900, 1200, 1800, 2700, 3600, 5400, 7200)
_LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_TRACKED = 5000  # issued tickets remembered (by internal id) to measure their wait at the call
_ERROR_BUCKETS = (60, 180, 300, 600, 900, 1200, 1800, 2700, 3600)


def _at(event: dict[str, Any]) -> float | None:
    try:
        return datetime.fromisoformat(str(event["at"])).timestamp()
    except (KeyError, ValueError):
        return None


def _trouble(report: dict[str, Any]) -> bool:
    """Whether a device part's health report names a problem (paper out, cover open, offline)."""
    if report.get("ok") is not None:
        return not report["ok"]
    if report.get("health") in ("ok", "problem"):  # printer/status.py's summary
        return bool(report["health"] == "problem")
    return report.get("online") is False or any(
        value in ("out", "open", "error", "offline", "jam") for value in report.values()
    )


class _StateCollector(Collector):
    """Gauges read from the current queue state and the hub at scrape time."""

    def __init__(self, c: Container) -> None:
        self._c = c

    def collect(self) -> Iterator[GaugeMetricFamily]:
        hub = self._c.hub
        clients = GaugeMetricFamily("madoguchi_websocket_clients", "Open WebSocket streams")
        clients.add_metric([], hub.subscriber_count)
        yield clients
        seq = GaugeMetricFamily("madoguchi_event_seq", "Last event seq this process delivered")
        seq.add_metric([], hub.last_seq)
        yield seq
        status = hub.state.status
        waiting = GaugeMetricFamily(
            "madoguchi_waiting_tickets", "Tickets waiting", labels=["category"]
        )
        estimate = GaugeMetricFamily(
            "madoguchi_estimated_wait_minutes",
            "Estimated wait for a ticket taken now (as shown)",
            labels=["category"],
        )
        for category in status.get("categories", []):
            waiting.add_metric([category["id"]], category.get("waiting", 0))
            minutes = category.get("estimated_wait_minutes")
            if minutes is not None:
                estimate.add_metric([category["id"]], minutes)
        yield waiting
        yield estimate
        counters = GaugeMetricFamily("madoguchi_counters", "Counters by state", labels=["state"])
        states: dict[str, int] = {}
        for counter in status.get("counters", []):
            states[str(counter.get("state"))] = states.get(str(counter.get("state")), 0) + 1
        for state, count in sorted(states.items()):
            counters.add_metric([state], count)
        yield counters


class _RelayCollector(Collector):
    """The relay pusher's counters, when this process pushes (one process holds the lock)."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        relay = self._metrics.relay
        if relay is None:
            return
        pushes = CounterMetricFamily(
            "madoguchi_relay_pushes", "Pushes to the public relay", labels=["result"]
        )
        pushes.add_metric(["ok"], relay.pushes)
        pushes.add_metric(["failed"], relay.failures)
        yield pushes
        resyncs = CounterMetricFamily(
            "madoguchi_relay_snapshot_resyncs",
            "Snapshots pushed to repair (the relay refused a delta, or events overflowed)",
        )
        resyncs.add_metric([], relay.resyncs)
        yield resyncs
        if relay.last_ok is not None:
            last = GaugeMetricFamily(
                "madoguchi_relay_last_success_timestamp_seconds", "Unix time of the last push OK"
            )
            last.add_metric([], relay.last_ok)
            yield last
        yield from _pull_metrics(self._metrics.relay_pull)


def _pull_metrics(
    puller: RelayPuller | None,
) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
    """The relay puller's counters: residents' bookings and notice requests taken from the
    relay (only the process holding the pull lock pulls; the others report zeros)."""
    if puller is None:
        return
    pulls = CounterMetricFamily(
        "madoguchi_relay_pulls",
        "Pull rounds with the relay (long poll, requests processed, answers sent)",
        labels=["result"],
    )
    pulls.add_metric(["ok"], puller.pulls)
    pulls.add_metric(["failed"], puller.failures)
    yield pulls
    requests = CounterMetricFamily(
        "madoguchi_relay_requests",
        "Residents' requests pulled from the relay, by endpoint and outcome",
        labels=["path", "outcome"],
    )
    for (path, outcome), n in sorted(puller.outcomes.items()):
        requests.add_metric([path, outcome], n)
    yield requests
    if puller.last_ok is not None:
        last = GaugeMetricFamily(
            "madoguchi_relay_last_pull_timestamp_seconds", "Unix time of the last pull round OK"
        )
        last.add_metric([], puller.last_ok)
        yield last


class Metrics:
    """The app's registry and instruments; fed by the hub and an HTTP middleware."""

    def __init__(self, c: Container) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.issued = Counter(
            "madoguchi_tickets_issued", "Tickets issued", ["category"], registry=r
        )
        self.calls = Counter("madoguchi_calls", "Tickets called", ["category"], registry=r)
        self.outcomes = Counter(
            "madoguchi_ticket_outcomes",
            "Tickets finished, no-show or cancelled",
            ["outcome"],
            registry=r,
        )
        self.waits = Histogram(
            "madoguchi_wait_seconds",
            "From issue to first call",
            ["category"],
            buckets=_WAIT_BUCKETS,
            registry=r,
        )
        self.delivery = Histogram(
            "madoguchi_event_delivery_seconds",
            "From an event's commit time to its delivery by this process's hub (bus lag)",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.recompute = Histogram(
            "madoguchi_state_recompute_seconds",
            "One queue-state recompute",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.latency = Histogram(
            "madoguchi_http_request_seconds",
            "HTTP request latency",
            ["method", "route", "status"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.device_ok = Gauge(
            "madoguchi_device_ok",
            "Last health a device reported: 1 fine, 0 a problem",
            ["device", "part"],
            registry=r,
        )
        self.estimate_error = Histogram(
            "madoguchi_estimate_error_seconds",
            "At the call: |wait estimated when the ticket was issued - actual wait|",
            ["category"],
            buckets=_ERROR_BUCKETS,
            registry=r,
        )
        self.estimate_bias = Summary(
            "madoguchi_estimate_bias_seconds",
            "At the call: estimated - actual wait (sum/count > 0: estimates run long)",
            ["category"],
            registry=r,
        )
        self.relay: RelayPusher | None = None  # set when this app pushes to a relay
        self.relay_pull: RelayPuller | None = None  # set when it also pulls requests from it
        r.register(_StateCollector(c))
        r.register(_RelayCollector(self))
        # id -> (category, issued at, estimated wait in seconds as shown, if any)
        self._issued_at: OrderedDict[int, tuple[str, float, float | None]] = OrderedDict()

    def observe_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        ticket = event.get("ticket") or {}
        category = str(ticket.get("category_id", ""))
        at = _at(event)
        if at is not None:
            self.delivery.observe(max(time.time() - at, 0.0))
        if kind == "ticket.issued" and ticket.get("id") is not None and at is not None:
            self.issued.labels(category).inc()
            shown = (event.get("detail") or {}).get("estimated_wait_minutes")
            estimate = float(shown) * 60 if isinstance(shown, int | float) else None
            self._issued_at[int(ticket["id"])] = (category, at, estimate)
            while len(self._issued_at) > _TRACKED:
                self._issued_at.popitem(last=False)
        elif kind == "ticket.called":
            self.calls.labels(category).inc()
            issued = self._issued_at.pop(int(ticket.get("id", -1)), None)
            if issued is not None and at is not None:
                waited = max(at - issued[1], 0.0)
                self.waits.labels(issued[0]).observe(waited)
                if issued[2] is not None:
                    self.estimate_error.labels(issued[0]).observe(abs(issued[2] - waited))
                    self.estimate_bias.labels(issued[0]).observe(issued[2] - waited)
        elif kind in ("ticket.finished", "ticket.no_show", "ticket.cancelled"):
            self.outcomes.labels(kind.removeprefix("ticket.")).inc()
        elif kind == "device.health":
            detail = event.get("detail") or {}
            device = str(detail.get("device", ""))
            for part, report in (detail.get("health") or {}).items():
                if isinstance(report, dict):
                    self.device_ok.labels(device, str(part)).set(0 if _trouble(report) else 1)


class LatencyMiddleware:
    """Pure ASGI (no per-request task or body copy): times each HTTP request by route template."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self._metrics.latency.labels(scope["method"], route, f"{status[0] // 100}xx").observe(
                time.perf_counter() - started
            )


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus text format: counts and durations, no personal data."""
    found: Metrics = request.app.state.metrics
    return Response(generate_latest(found.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/readyz", include_in_schema=False)
async def ready(c: ContainerDep) -> dict[str, Any]:
    """Ready to serve: the database answers and the queue state has been computed."""
    try:
        seq = await run_in_threadpool(c.stores.current_seq)
    except Exception as exc:
        raise ApiError(503, "not_ready", "the database does not answer") from exc
    return {"ready": True, "seq": seq, "state_seq": c.hub.state.seq}


@router.get("/healthz", include_in_schema=False)
async def alive() -> dict[str, bool]:
    """The process is up (liveness); see /readyz for readiness."""
    return {"ok": True}
