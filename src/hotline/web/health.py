"""Liveness, readiness and metrics: /healthz (the process answers), /readyz (the database
answers too) and /metrics (Prometheus text, for the addresses or token the settings allow).
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
from collections.abc import Iterator

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy import text

from hotline.calls.service import call_figures
from hotline.errors import NotAllowed
from hotline.jobs.service import job_figures
from hotline.metrics import process_metrics
from hotline.web.deps import bearer_token, client_address, get_state
from hotline.web.errors import problem
from hotline.web.state import AppState

router = APIRouter(include_in_schema=False)

READY_TIMEOUT = 2.0


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(state: AppState = Depends(get_state)) -> Response:
    """200 when the database answers within READY_TIMEOUT seconds, 503 problem+json if not:
    a load balancer sends no requests to a process that cannot reach it."""
    try:
        async with asyncio.timeout(READY_TIMEOUT), state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        return problem(
            503,
            "Cơ sở dữ liệu không phản hồi",
            f"database: {type(exc).__name__}",
            field="database",
        )
    return JSONResponse({"status": "ok", "database": "ok"})


def metrics_allowed(request: Request, state: AppState) -> bool:
    """From an address in HOTLINE_METRICS_ALLOW, or with HOTLINE_METRICS_TOKEN as bearer."""
    settings = state.settings
    token = bearer_token(request)
    if settings.metrics_token and token:
        return hmac.compare_digest(token.encode(), settings.metrics_token.encode())
    try:
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in settings.metrics_allow)


class _Figures:
    """The database's figures, fetched before rendering (collectors cannot await)."""

    def __init__(
        self, jobs: dict[str, int], oldest: float, calls: dict[str, int], in_progress: int
    ) -> None:
        self.jobs, self.oldest, self.calls, self.in_progress = jobs, oldest, calls, in_progress

    def collect(self) -> Iterator[Metric]:
        jobs = GaugeMetricFamily("hotline_jobs", "Durable jobs by status", labels=["status"])
        for status, n in sorted(self.jobs.items()):
            jobs.add_metric([status], n)
        yield jobs
        yield GaugeMetricFamily(
            "hotline_job_oldest_due_seconds",
            "How long the oldest due, unclaimed job has waited",
            value=self.oldest,
        )
        calls = CounterMetricFamily(
            "hotline_calls", "Calls recorded, by outcome", labels=["outcome"]
        )
        for outcome, n in sorted(self.calls.items()):
            calls.add_metric([outcome], n)
        yield calls
        yield GaugeMetricFamily(
            "hotline_calls_in_progress",
            "Answered calls the phone lines have opened and not yet finished",
            value=self.in_progress,
        )


@router.get("/metrics")
async def metrics(request: Request, state: AppState = Depends(get_state)) -> Response:
    if not metrics_allowed(request, state):
        raise NotAllowed("Không được xem số liệu giám sát từ địa chỉ này")
    async with state.unit_of_work(read_only=True) as session:
        jobs, oldest = await job_figures(session)
        calls, in_progress = await call_figures(session)
    figures = CollectorRegistry(auto_describe=False)
    figures.register(_Figures(jobs, oldest, calls, in_progress))
    body = process_metrics() + generate_latest(figures)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
