"""The summary report, read from the incremental counters (no scan of cases or calls)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Subquery, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.models import User
from hotline.auth.permissions import Permission, allows, require
from hotline.auth.service import Actor
from hotline.calls.models import CallOutcome
from hotline.directory.models import Category, Unit
from hotline.errors import InvalidInput
from hotline.reports.models import (
    CallCounter,
    CaseCounter,
    CaseCounterDelta,
    OperatorCounter,
    UnitCounter,
)

MAX_DAYS = 366 * 5


def check_period(date_from: date, date_to: date) -> None:
    if date_to < date_from:
        raise InvalidInput("Ngày kết thúc phải sau ngày bắt đầu", field="to")
    if (date_to - date_from).days > MAX_DAYS:
        raise InvalidInput("Khoảng thời gian tối đa 5 năm", field="to")


def _case_counts(date_from: date, date_to: date) -> Subquery:
    """The case counters of the period plus the intake increments not folded in yet."""
    columns = ("day", "hour", "category_code", "channel", "created", "forwarded", "urgent")
    folded = select(*(CaseCounter.__table__.c[c] for c in columns)).where(
        CaseCounter.day.between(date_from, date_to)
    )
    pending = select(*(CaseCounterDelta.__table__.c[c] for c in columns)).where(
        CaseCounterDelta.day.between(date_from, date_to)
    )
    return union_all(folded, pending).subquery("counts")


async def read_summary(
    session: AsyncSession, *, actor: Actor, date_from: date, date_to: date
) -> dict[str, Any]:
    """`summary` for someone who may read reports (the hotline's staff and leads)."""
    require(actor, Permission.READ_REPORTS)
    return await summary(session, date_from=date_from, date_to=date_to)


async def board_summary(
    session: AsyncSession, *, actor: Actor, today: date
) -> dict[str, Any] | None:
    """The last seven days' `summary` for the board, or None for someone who may not read
    reports (the board then shows no report)."""
    if not allows(actor, Permission.READ_REPORTS):
        return None
    return await summary(session, date_from=today - timedelta(days=6), date_to=today)


async def summary(session: AsyncSession, *, date_from: date, date_to: date) -> dict[str, Any]:
    """Requests, handling, calls and units over inclusive local dates."""
    check_period(date_from, date_to)
    counts = _case_counts(date_from, date_to)
    groups = dict((await session.execute(select(Category.code, Category.group))).all())

    by_category: dict[str, int] = {}
    by_group = {"hardship": 0, "emergency": 0, "other": 0}
    total = forwarded = urgent = 0
    rows = await session.execute(
        select(
            counts.c.category_code,
            func.sum(counts.c.created),
            func.sum(counts.c.forwarded),
            func.sum(counts.c.urgent),
        ).group_by(counts.c.category_code)
    )
    for code, created, fwd, urg in rows:
        created, fwd, urg = int(created or 0), int(fwd or 0), int(urg or 0)
        if created:
            by_category[code or "uncategorised"] = created
        group = groups.get(code)
        by_group[group.value if group is not None else "other"] += created
        total += created
        forwarded += fwd
        urgent += urg

    by_channel = {
        ch: int(n)
        for ch, n in (
            await session.execute(
                select(counts.c.channel, func.sum(counts.c.created)).group_by(counts.c.channel)
            )
        )
        if n
    }

    day_cases = dict(
        (
            await session.execute(
                select(counts.c.day, func.sum(counts.c.created)).group_by(counts.c.day)
            )
        ).all()
    )
    hour_cases = dict(
        (
            await session.execute(
                select(counts.c.hour, func.sum(counts.c.created)).group_by(counts.c.hour)
            )
        ).all()
    )
    calls = await _calls(session, date_from, date_to)
    by_day = []
    day = date_from
    while day <= date_to:
        by_day.append(
            {
                "date": day.isoformat(),
                "requests": int(day_cases.get(day) or 0),
                "calls": calls["_by_day"].get(day, 0),
            }
        )
        day += timedelta(days=1)
    by_hour = [
        {"hour": h, "requests": int(hour_cases.get(h) or 0), "calls": calls["_by_hour"].get(h, 0)}
        for h in range(24)
    ]
    return {
        "period": {"from": date_from.isoformat(), "to": date_to.isoformat()},
        "requests": {
            "total": total,
            "urgent": urgent,
            "by_group": by_group,
            "by_category": dict(sorted(by_category.items(), key=lambda kv: -kv[1])),
            "by_channel": dict(sorted(by_channel.items(), key=lambda kv: -kv[1])),
        },
        "handling": {"handled_directly": total - forwarded, "forwarded": forwarded},
        "calls": {k: v for k, v in calls.items() if not k.startswith("_")},
        "by_day": by_day,
        "by_hour": by_hour,
        "units": await _units(session, date_from, date_to),
    }


async def _calls(session: AsyncSession, date_from: date, date_to: date) -> dict[str, Any]:
    in_period = CallCounter.day.between(date_from, date_to)
    rows = await session.execute(
        select(
            CallCounter.line,
            CallCounter.branch,
            CallCounter.outcome,
            func.sum(CallCounter.calls),
            func.sum(CallCounter.wait_seconds),
            func.sum(CallCounter.answered_20s),
        )
        .where(in_period)
        .group_by(CallCounter.line, CallCounter.branch, CallCounter.outcome)
    )
    by_line: dict[str, int] = {}
    by_branch: dict[str, int] = {}
    by_outcome: dict[str, int] = {}
    total = answered_wait = quick = 0
    for line, branch, outcome, n, wait, n_quick in rows:
        n = int(n or 0)
        by_line[line] = by_line.get(line, 0) + n
        by_branch[branch or "none"] = by_branch.get(branch or "none", 0) + n
        if outcome:
            by_outcome[outcome] = by_outcome.get(outcome, 0) + n
        if outcome == CallOutcome.ANSWERED.value:
            answered_wait += int(wait or 0)
        quick += int(n_quick or 0)
        total += n
    answered = by_outcome.get(CallOutcome.ANSWERED.value, 0)
    abandoned = by_outcome.get(CallOutcome.ABANDONED_QUEUE.value, 0)
    # Offered to an operator: every call that reached a queue, whatever became of it.
    offered = answered + abandoned + by_outcome.get(CallOutcome.CALLBACK_REQUESTED.value, 0)
    by_day = {
        d: int(n)
        for d, n in (
            await session.execute(
                select(CallCounter.day, func.sum(CallCounter.calls))
                .where(in_period)
                .group_by(CallCounter.day)
            )
        )
    }
    by_hour = {
        h: int(n)
        for h, n in (
            await session.execute(
                select(CallCounter.hour, func.sum(CallCounter.calls))
                .where(in_period)
                .group_by(CallCounter.hour)
            )
        )
    }
    return {
        "total": total,
        "by_line": dict(sorted(by_line.items(), key=lambda kv: -kv[1])),
        "by_outcome": dict(sorted(by_outcome.items(), key=lambda kv: -kv[1])),
        "by_branch": dict(sorted(by_branch.items(), key=lambda kv: -kv[1])),
        # Shares of the calls offered to operators; null when no call reached a queue.
        "abandonment_rate": _ratio(abandoned, offered),
        "service_level_20s": _ratio(quick, offered),
        "average_speed_of_answer_seconds": _ratio(answered_wait, answered, 1),
        "by_operator": await _operators(session, date_from, date_to),
        "_by_day": by_day,
        "_by_hour": by_hour,
    }


def _ratio(part: int, whole: int, digits: int = 4) -> float | None:
    return round(part / whole, digits) if whole else None


async def _operators(session: AsyncSession, date_from: date, date_to: date) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(
            OperatorCounter.operator_id,
            User.username,
            func.sum(OperatorCounter.answered),
            func.sum(OperatorCounter.talk_seconds),
        )
        .join(User, User.id == OperatorCounter.operator_id)
        .where(OperatorCounter.day.between(date_from, date_to))
        .group_by(OperatorCounter.operator_id, User.username)
        .order_by(User.username)
    )
    out = []
    for operator_id, username, answered, talk in rows:
        answered, talk = int(answered or 0), int(talk or 0)
        out.append(
            {
                "operator": username,
                "operator_id": operator_id,
                "answered": answered,
                "talk_seconds": talk,
                # Talk time only: wrap-up after the call is not recorded yet.
                "average_handle_seconds": _ratio(talk, answered, 1),
            }
        )
    return out


async def _units(session: AsyncSession, date_from: date, date_to: date) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(
            Unit.id,
            Unit.code,
            Unit.name,
            func.sum(UnitCounter.received),
            func.sum(UnitCounter.resolved),
            func.sum(UnitCounter.overdue),
        )
        .join(Unit, Unit.id == UnitCounter.unit_id)
        .where(UnitCounter.day.between(date_from, date_to))
        .group_by(Unit.id, Unit.code, Unit.name)
        .order_by(func.sum(UnitCounter.received).desc(), Unit.code)
    )
    return [
        {
            "unit": code,
            "unit_id": unit_id,
            "name": name,
            "received": int(r or 0),
            "resolved": int(s or 0),
            "overdue": int(o or 0),
        }
        for unit_id, code, name, r, s, o in rows
    ]
