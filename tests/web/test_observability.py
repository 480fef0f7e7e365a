"""Request ids, logs, readiness and metrics (web/observe.py, logs.py, web/health.py)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from prometheus_client.parser import text_string_to_metric_families
from structlog.testing import capture_logs

from hotline.app import create_app
from hotline.settings import Settings
from tests.conftest import World, new_case_body

pytestmark = pytest.mark.anyio


def _sample(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


async def test_the_request_id_is_echoed_and_bound_to_the_access_line(
    client: httpx.AsyncClient,
) -> None:
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        r = await client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.42"})
    assert r.headers["x-request-id"] == "lb-7f3a.42"
    [line] = [entry for entry in logs if entry["event"] == "request"]
    assert line["request_id"] == "lb-7f3a.42"
    assert (line["method"], line["path"], line["route"], line["status"]) == (
        "GET",
        "/healthz",
        "/healthz",
        200,
    )


async def test_an_insane_request_id_is_replaced_by_a_new_one(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz", headers={"X-Request-ID": "x" * 65})
    made = r.headers["x-request-id"]
    assert made != "x" * 65 and len(made) == 32
    r = await client.get("/healthz", headers={"X-Request-ID": "a b\\c"})
    assert r.headers["x-request-id"] != "a b\\c"
    assert (await client.get("/healthz")).headers["x-request-id"] != made


def _free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_logs_are_json_lines_outside_development(settings: Settings, tmp_path: Path) -> None:
    port = _free_tcp_port()
    env = {
        **os.environ,
        "HOTLINE_ENVIRONMENT": "test",
        "HOTLINE_DATABASE_URL": settings.database_url,
        "HOTLINE_VAR_DIR": str(tmp_path / "var"),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src"),
    }
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "hotline.cli", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    r = httpx.get(
                        f"http://127.0.0.1:{port}/readyz", headers={"X-Request-ID": "probe-1"}
                    )
                    break
                except httpx.TransportError:
                    assert server.poll() is None, log_path.read_text()
                    assert time.monotonic() < deadline, log_path.read_text()
                    time.sleep(0.2)
            assert r.status_code == 200, r.text
            assert r.headers["x-request-id"] == "probe-1"
        finally:
            server.terminate()
            server.wait(timeout=30)
    lines = [ln for ln in log_path.read_text().splitlines() if ln.strip()]
    records = [json.loads(ln) for ln in lines]  # every line, uvicorn's included, is JSON
    [access] = [r for r in records if r.get("request_id") == "probe-1"]  # uvicorn's is off
    assert access["event"] == "request" and access["route"] == "/readyz"
    assert access["status"] == 200 and access["level"] == "info" and "timestamp" in access


async def test_readyz_answers_when_the_database_does(client: httpx.AsyncClient) -> None:
    r = await client.get("/readyz")
    assert r.status_code == 200 and r.json()["database"] == "ok"


async def test_readyz_is_503_when_the_database_does_not_answer(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    app = create_app(
        Settings(
            database_url=f"postgresql://hotline@127.0.0.1:{closed}/hotline",
            var_dir=tmp_path / "var",
        )
    )
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            r = await c.get("/readyz")
            assert (await c.get("/healthz")).status_code == 200  # the process itself is fine
    finally:
        await app.state.hotline.close()
    assert r.status_code == 503
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["field"] == "database"


async def test_metrics_count_requests_by_route_and_intake(
    client: httpx.AsyncClient, world: World
) -> None:
    before = (await client.get("/metrics")).text
    r = await client.post("/api/v1/cases", json=new_case_body(), headers=world.auth("operator"))
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    r = await client.get(f"/api/v1/cases/{code}/events", headers=world.auth("operator"))
    assert r.status_code == 200
    after = await client.get("/metrics")
    assert after.status_code == 200
    assert after.headers["content-type"].startswith("text/plain")

    def grew(name: str, **labels: str) -> float:
        return _sample(after.text, name, **labels) - _sample(before, name, **labels)

    assert grew("hotline_cases_received_total", channel="phone") == 1
    created = {"method": "POST", "route": "/api/v1/cases", "status": "201"}
    assert grew("hotline_http_requests_total", **created) == 1
    # By route template: the case's code is not a label.
    events = {"method": "GET", "route": "/api/v1/cases/{code}/events", "status": "200"}
    assert grew("hotline_http_requests_total", **events) == 1
    assert code not in after.text
    assert grew("hotline_http_request_duration_seconds_count", method="GET", route="/metrics")
    assert "hotline_calls_in_progress" in after.text


async def test_metrics_read_the_job_queue_from_the_database(
    app: Any, client: httpx.AsyncClient
) -> None:
    from datetime import timedelta

    from hotline.db import utcnow
    from hotline.jobs.service import enqueue

    async with app.state.hotline.unit_of_work() as session:
        await enqueue(session, kind="test.waiting", run_at=utcnow() - timedelta(minutes=10))
        await enqueue(session, kind="test.later", run_at=utcnow() + timedelta(hours=1))
    text = (await client.get("/metrics")).text
    assert _sample(text, "hotline_jobs", status="queued") == 2
    assert _sample(text, "hotline_jobs", status="failed") == 0
    # The due one has waited ten minutes; the later one is not due.
    assert 590 < _sample(text, "hotline_job_oldest_due_seconds") < 3600


async def _metrics_from(app: Any, address: str, **headers: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        return await c.get("/metrics", headers=headers)


async def test_metrics_are_refused_to_addresses_not_allowed(app: Any) -> None:
    r = await _metrics_from(app, "203.0.113.9")
    assert r.status_code == 403
    assert r.headers["content-type"] == "application/problem+json"
    assert "hotline_http_requests" not in r.text
    assert (await _metrics_from(app, "127.0.0.1")).status_code == 200


async def test_metrics_token_opens_them_from_anywhere(settings: Settings) -> None:
    token = "m" * 40
    app = create_app(settings.model_copy(update={"metrics_allow": [], "metrics_token": token}))
    try:
        assert (await _metrics_from(app, "127.0.0.1")).status_code == 403
        wrong = await _metrics_from(app, "203.0.113.9", Authorization="Bearer " + "n" * 40)
        assert wrong.status_code == 403
        right = await _metrics_from(app, "203.0.113.9", Authorization=f"Bearer {token}")
        assert right.status_code == 200 and "hotline_http_requests" in right.text
    finally:
        await app.state.hotline.close()


async def test_metrics_count_calls_by_outcome_from_the_database(
    client: httpx.AsyncClient, world: World
) -> None:
    from tests.calls.test_calls import call_body, record_call_for

    for outcome in ("answered", "answered", "abandoned_queue"):
        answered = outcome == "answered"
        body = call_body(
            outcome=outcome,
            **({} if answered else {"answered_at": None, "talk_seconds": 0}),
        )
        r = await record_call_for(client, world, body)
        assert r.status_code == 201, r.text
    text = (await client.get("/metrics")).text
    assert _sample(text, "hotline_calls_total", outcome="answered") == 2
    assert _sample(text, "hotline_calls_total", outcome="abandoned_queue") == 1
    assert _sample(text, "hotline_calls_in_progress") == 0


async def test_a_replayed_intake_is_not_counted_again(
    client: httpx.AsyncClient, world: World
) -> None:
    before = (await client.get("/metrics")).text
    headers = {**world.auth("operator"), "Idempotency-Key": "retry-7b1e"}
    for _ in range(2):
        r = await client.post("/api/v1/cases", json=new_case_body(), headers=headers)
        assert r.status_code == 201, r.text
    assert r.headers["idempotent-replayed"] == "true"
    after = (await client.get("/metrics")).text
    received = _sample(after, "hotline_cases_received_total", channel="phone")
    assert received - _sample(before, "hotline_cases_received_total", channel="phone") == 1


_BOTH_LINES = """
import structlog
from hotline import logs
from tests.calls.test_calls import record_call_for
logs.configure_logging(environment="production")
fields = dict(method="POST", path='/api/v1/"q"/Hà Nội\\n', route="/api/v1/cases", status=201,
              ms=12.3, client=None)
with structlog.contextvars.bound_contextvars(request_id="rid-1"):
    logs.info_line_writer()("request", **fields)
    structlog.get_logger("hotline.access").info("request", **fields)
logs.configure_logging(environment="production", level="WARNING")
print(logs.info_line_writer() is None)
logs.configure_logging(environment="test")
print(logs.info_line_writer() is None)
"""


def test_the_production_access_line_is_the_line_structlog_would_write() -> None:
    """In production the access line skips structlog's processors (logs.info_line_writer):
    it must still be the JSON line, key for key, that structlog renders."""
    src = str(Path(__file__).resolve().parents[2] / "src")
    out = subprocess.run(
        [sys.executable, "-c", _BOTH_LINES],
        env={**os.environ, "PYTHONPATH": src},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    ours, theirs = out.stderr.splitlines()
    assert list(json.loads(ours).items())[:-1] == list(json.loads(theirs).items())[:-1]
    assert ours.rsplit('"timestamp"', 1)[0] == theirs.rsplit('"timestamp"', 1)[0]
    assert json.loads(ours)["request_id"] == "rid-1" and json.loads(ours)["status"] == 201
    assert list(json.loads(ours))[-1] == "timestamp" and ours.endswith('Z"}')
    # INFO filtered out, or not production: the line goes through structlog as before.
    assert out.stdout.split() == ["True", "True"]
