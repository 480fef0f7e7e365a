"""Prometheus metrics of this process (prometheus-client).

Counted as things happen: HTTP requests by route template, method and status, and their
latency (web/observe.py); cases received (intake); the live event lag, fed by the event
publisher through `set_event_lag`. Read from the database when scraped (web/health.py):
jobs by status and the oldest due job's wait, calls by outcome and calls in progress.

With several web processes (`hotline serve --workers N`) set PROMETHEUS_MULTIPROC_DIR to an
empty directory before they start (`hotline serve` does it under var/ when N > 1): every
process then writes its values there and /metrics sums them (prometheus-client's
multiprocess mode).
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter(
    "hotline_http_requests",
    "HTTP requests served, by method, route template and status",
    ["method", "route", "status"],
)
REQUEST_SECONDS = Histogram(
    "hotline_http_request_duration_seconds",
    "Time to serve an HTTP request (streams: until the stream ends), by method and route",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
INTAKE = Counter("hotline_cases_received", "Cases received (intake), by channel", ["channel"])
EVENT_LAG = Gauge(
    "hotline_event_lag_seconds",
    "Delay between an event's commit and its delivery to live subscribers (latest seen)",
    multiprocess_mode="livemax",
)

# Labels of requests that matched no route: one series, whatever paths scanners try.
UNMATCHED = "<unmatched>"


# The labelled children, found once: `labels()` costs more than the count itself, and this
# runs on every request (intake's hot path included). Bounded by routes x methods x statuses.
_request_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    key = (method, route, status)
    children = _request_children.get(key)
    if children is None:
        children = (
            REQUESTS.labels(method, route, str(status)),
            REQUEST_SECONDS.labels(method, route),
        )
        _request_children[key] = children
    children[0].inc()
    children[1].observe(seconds)


def count_intake(channel: str) -> None:
    """One case received through intake (any channel)."""
    INTAKE.labels(channel).inc()


def set_event_lag(seconds: float) -> None:
    """The event log's delivery lag, as its publisher measures it (seconds)."""
    EVENT_LAG.set(max(0.0, seconds))


def process_metrics() -> bytes:
    """This process's metrics, or every web process's in multiprocess mode, as
    Prometheus text."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)
