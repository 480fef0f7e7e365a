"""The phone line's own Prometheus metrics, served on HOTLINE_SIP_METRICS_HOST:PORT.

The line is a process of its own (and there may be several behind Kamailio), so its
in-memory figures — calls in progress, callers waiting in each ACD queue — cannot be read
by the web processes; each line serves them on its own port instead (prometheus-client's
HTTP server, in a thread: scrapes never run on the media clock's loop). Every series carries
the line's instance name. Bind it to an address only the monitoring can reach: it has no
authentication.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric

from hotline.telephony.acd import Acd
from hotline.telephony.sip.ua import UserAgent


class _Live:
    def __init__(self, instance: str, ua: UserAgent, acd: Acd) -> None:
        self.instance, self.ua, self.acd = instance, ua, acd

    def collect(self) -> Iterator[Metric]:
        active = GaugeMetricFamily(
            "hotline_sip_calls_active", "Calls in progress on this line", labels=["instance"]
        )
        active.add_metric([self.instance], len(self.ua.calls))
        yield active
        waiting = GaugeMetricFamily(
            "hotline_acd_waiting",
            "Callers waiting for an operator, by queue",
            labels=["instance", "queue"],
        )
        for _ in range(3):  # the loop thread may change the dict while this thread reads
            try:
                sizes = {branch: len(queue) for branch, queue in list(self.acd.queues.items())}
                break
            except RuntimeError:
                sizes = {}
        for branch, n in sorted(sizes.items()):
            waiting.add_metric([self.instance, branch], n)
        yield waiting


class LineMetrics:
    """Counters the line updates, and the HTTP server that exposes them."""

    def __init__(self, instance: str) -> None:
        self.instance = instance
        self.registry = CollectorRegistry()
        self.ended = Counter(
            "hotline_sip_calls_ended",
            "Calls this line has ended, by outcome",
            ["instance", "outcome"],
            registry=self.registry,
        )
        self.refused = Counter(
            "hotline_sip_calls_refused",
            "INVITEs from the trunks refused at the door, by status and cause",
            ["instance", "status", "cause"],
            registry=self.registry,
        )
        self.stalls = Counter(
            "hotline_sip_media_stalls",
            "Ticks of the media clock sent over 10 ms late (every stream's frame with them)",
            ["instance"],
            registry=self.registry,
        )
        self.stalls.labels(instance)  # shown at 0 from the start
        self._server: Any = None

    def call_ended(self, outcome: str | None) -> None:
        self.ended.labels(self.instance, outcome or "none").inc()

    def call_refused(self, status: int | None, cause: str | None) -> None:
        self.refused.labels(self.instance, str(status or ""), cause or "").inc()

    def media_stall(self) -> None:
        self.stalls.labels(self.instance).inc()

    def serve(self, host: str, port: int, ua: UserAgent, acd: Acd) -> int:
        """Start serving; returns the port (a free one when `port` is 0)."""
        self.registry.register(_Live(self.instance, ua, acd))
        self._server, _thread = start_http_server(port, addr=host, registry=self.registry)
        return int(self._server.server_port)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
