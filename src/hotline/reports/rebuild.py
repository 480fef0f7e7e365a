"""Recompute the report counters from cases, forwardings and calls.

Used after bulk loads (demo data, imports) and to repair counters; normal writes keep
them up to date incrementally. Runs in the caller's transaction.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.calls.models import Call, CallDirection, CallOutcome
from hotline.cases.models import AssignmentStatus, Case, CaseAssignment
from hotline.reports.counters import NOT_OFFERED, quarter_of
from hotline.reports.models import (
    CallCounter,
    CallQuarterCounter,
    CaseCounter,
    CaseCounterDelta,
    OperatorCounter,
    UnitCounter,
)
from hotline.site import site_of

BATCH = 5000


async def rebuild_counters(session: AsyncSession) -> dict[str, int]:
    site = site_of(session)
    counters = (CaseCounter, CaseCounterDelta, CallCounter, CallQuarterCounter, UnitCounter)
    for model in (*counters, OperatorCounter):
        await session.execute(delete(model))

    cases: Counter[tuple[Any, ...]] = Counter()
    forwarded: Counter[tuple[Any, ...]] = Counter()
    urgent: Counter[tuple[Any, ...]] = Counter()
    case_rows = await session.stream(
        select(Case.created_at, Case.category_code, Case.channel, Case.ever_forwarded, Case.urgent)
    )
    async for at, category, channel, ever_forwarded, is_urgent in case_rows:
        day, hour = site.local_day_hour(at)
        key = (day, hour, category or "", channel.value)
        cases[key] += 1
        forwarded[key] += int(ever_forwarded)
        urgent[key] += int(is_urgent)
    await _insert(
        session,
        CaseCounter,
        [
            {
                "day": k[0],
                "hour": k[1],
                "category_code": k[2],
                "channel": k[3],
                "shard": 0,
                "created": n,
                "forwarded": forwarded[k],
                "urgent": urgent[k],
            }
            for k, n in cases.items()
        ],
    )

    call_key: tuple[Any, ...]
    calls: Counter[tuple[Any, ...]] = Counter()
    waits: Counter[tuple[Any, ...]] = Counter()
    talks: Counter[tuple[Any, ...]] = Counter()
    quick: Counter[tuple[Any, ...]] = Counter()
    by_operator: Counter[tuple[Any, ...]] = Counter()
    operator_talk: Counter[tuple[Any, ...]] = Counter()
    # The staffing forecast's quarter-hours: calls, answered, talk, wait, abandoned.
    offered: dict[tuple[str, int], list[int]] = {}
    call_rows = await session.stream(
        select(
            Call.started_at,
            Call.line,
            Call.branch,
            Call.outcome,
            Call.queue_wait_seconds,
            Call.talk_seconds,
            Call.answered_at,
            Call.operator_id,
        )
        .where(Call.ended_at.is_not(None) | Call.answered_at.is_(None))  # not calls in progress
        .where(Call.direction == CallDirection.INBOUND)  # as counted live (calls/service.py)
    )
    async for at, line, branch, outcome, wait, talk, answered_at, operator_id in call_rows:
        day, hour = site.local_day_hour(at)
        call_key = (day, hour, line, branch or "", outcome.value if outcome else "")
        calls[call_key] += 1
        waits[call_key] += wait
        talks[call_key] += talk
        quick[call_key] += int(answered_at is not None and wait <= 20)
        if operator_id is not None and answered_at is not None:
            by_operator[(day, operator_id)] += 1
            operator_talk[(day, operator_id)] += talk
        if branch and (outcome is None or outcome.value != NOT_OFFERED):
            sums = offered.setdefault((branch, quarter_of(at)), [0, 0, 0, 0, 0])
            answered = answered_at is not None
            sums[0] += 1
            sums[1] += int(answered)
            sums[2] += talk if answered else 0
            sums[3] += wait
            sums[4] += int(outcome is CallOutcome.ABANDONED_QUEUE)
    await _insert(
        session,
        CallCounter,
        [
            {
                "day": k[0],
                "hour": k[1],
                "line": k[2],
                "branch": k[3],
                "outcome": k[4],
                "shard": 0,
                "calls": n,
                "wait_seconds": waits[k],
                "talk_seconds": talks[k],
                "answered_20s": quick[k],
            }
            for k, n in calls.items()
        ],
    )
    await _insert(
        session,
        OperatorCounter,
        [
            {
                "day": k[0],
                "operator_id": k[1],
                "shard": 0,
                "answered": n,
                "talk_seconds": operator_talk[k],
            }
            for k, n in by_operator.items()
        ],
    )

    await _insert(
        session,
        CallQuarterCounter,
        [
            {
                "branch": k[0],
                "quarter": k[1],
                "calls": v[0],
                "answered": v[1],
                "talk_seconds": v[2],
                "wait_seconds": v[3],
                "abandoned": v[4],
            }
            for k, v in offered.items()
        ],
    )

    received: Counter[tuple[Any, ...]] = Counter()
    resolved: Counter[tuple[Any, ...]] = Counter()
    overdue: Counter[tuple[Any, ...]] = Counter()
    assignment_rows = await session.stream(
        select(
            CaseAssignment.unit_id,
            CaseAssignment.created_at,
            CaseAssignment.status,
            CaseAssignment.finished_at,
            CaseAssignment.overdue_at,
        )
    )
    async for unit_id, created_at, status, finished_at, overdue_at in assignment_rows:
        received[(site.local_day_hour(created_at)[0], unit_id)] += 1
        if status == AssignmentStatus.RESOLVED and finished_at is not None:
            resolved[(site.local_day_hour(finished_at)[0], unit_id)] += 1
        if overdue_at is not None:
            overdue[(site.local_day_hour(overdue_at)[0], unit_id)] += 1
    keys = set(received) | set(resolved) | set(overdue)
    await _insert(
        session,
        UnitCounter,
        [
            {
                "day": k[0],
                "unit_id": k[1],
                "shard": 0,
                "received": received[k],
                "resolved": resolved[k],
                "overdue": overdue[k],
            }
            for k in keys
        ],
    )
    return {"case_buckets": len(cases), "call_buckets": len(calls), "unit_buckets": len(keys)}


async def _insert(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), BATCH):
        await session.execute(insert(model), rows[i : i + BATCH])
