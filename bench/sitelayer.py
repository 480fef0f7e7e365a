"""The recent weeks of the benchmark site (sitedata.py), laid again on every run, as of now.

Cases arrive at the history's daily rate following a day's rhythm (HOUR_WEIGHTS); each one's
life up to now is drawn as a site's would be: taken within minutes (hours for a written
one), answered by the hotline within hours or forwarded to the unit the product routes it to
and answered within about the category's deadline (some late, a few forgotten), closed some
hours later. With their timeline entries, the forwardings, calls and callbacks of those
weeks, the operators' states and the counters of those days. Rows are made in Python (tens
of thousands: seconds) and copied in.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from datagen import SPAN_DAYS, SPAN_START, call_templates, case_templates, log

RECENT_DAYS = 28
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# Local days on or after this one belong to the recent layer (the history ends a day before).
CUTOFF_DAY = (SPAN_START + timedelta(days=SPAN_DAYS + 1)).astimezone(TZ).date()
# A day's traffic by local hour (sums to 24): quiet nights, busy mornings and afternoons.
HOUR_WEIGHTS = (
    0.25, 0.2, 0.15, 0.15, 0.2, 0.4, 0.8, 1.3, 1.7, 1.8, 1.7, 1.5,
    1.2, 1.3, 1.6, 1.6, 1.5, 1.3, 1.1, 1.0, 0.9, 0.7, 0.5, 0.35,
)  # fmt: skip
# The recent weeks draw on every demo case (about 10,000 texts), not the history's 300
# templates: otherwise the same text would come from one ward several times a day, and
# every open case would look like a duplicate of another.
POOL = 1_000_000


@dataclass(frozen=True)
class Layer:
    anchored_at: datetime
    cases: int
    open_cases: int
    active_forwardings: int
    overdue_forwardings: int
    cases_today: int
    calls: int
    seconds: float


def _slots(start: datetime, end: datetime, per_day: float) -> list[datetime]:
    """Evenly spread arrival times following HOUR_WEIGHTS, in [start, end)."""
    out: list[datetime] = []
    carry = 0.0
    hour = start.replace(minute=0, second=0, microsecond=0)
    while hour < end:
        weight = HOUR_WEIGHTS[hour.astimezone(TZ).hour]
        lo, hi = max(hour, start), min(hour + timedelta(hours=1), end)
        carry += per_day / 24 * weight * (hi - lo).total_seconds() / 3600
        n = int(carry)
        carry -= n
        step = (hi - lo) / max(n, 1)
        out += [lo + step * (i + 0.5) for i in range(n)]
        hour += timedelta(hours=1)
    return out


# Share of cases forwarded to a unit (the base history forwards one in ten).
FORWARD_SHARE = 0.12
# Channels citizens write on themselves: nobody is on the line, taking them can wait.
WRITTEN = ("web", "app", "email")


def _unit_takes(rng: random.Random) -> float | None:
    """How long a unit takes to answer, as a share of the category's deadline (None: the
    forwarding is forgotten and still held)."""
    r = rng.random()
    if r < 0.01:
        return None
    return rng.uniform(0.1, 1.0) if r < 0.87 else rng.uniform(1.0, 2.5)


class _Builder:
    """The recent layer's rows, made in Python (tens of thousands: seconds)."""

    def __init__(self, ids: dict[str, int], now: datetime, meta: dict[str, Any]) -> None:
        self.ids = ids
        self.now = now
        self.ops: list[int] = meta["ops"]
        self.route: dict[tuple[str, str], int] = meta["route"]
        self.unit_codes: dict[int, str] = meta["unit_codes"]
        self.hours: dict[str, int] = meta["hours"]
        self.cases: list[tuple[Any, ...]] = []
        self.assignments: list[tuple[Any, ...]] = []
        self.events: list[tuple[Any, ...]] = []
        self.calls: list[tuple[Any, ...]] = []
        self.callbacks: list[tuple[Any, ...]] = []
        self.rng = random.Random(1022)
        self._held_status = "forwarded"

    def _next(self, key: str) -> int:
        self.ids[key] += 1
        return self.ids[key]

    def _before_now(self, at: datetime, fallback: datetime) -> datetime:
        return at if at < self.now else max(fallback, self.now - timedelta(seconds=1))

    def event(self, case_id: int, kind: str, at: datetime, actor: int | None, **kw: Any) -> None:
        self.events.append(
            (
                self._next("case_event"),
                case_id,
                kind,
                actor,
                kw.get("unit_id"),
                kw.get("from_status"),
                kw.get("to_status"),
                json.dumps(kw.get("data", {}), ensure_ascii=False),
                at,
            )
        )

    def case(self, t: Any, at: datetime) -> None:
        """One case's life up to now: taken within minutes (hours for a written one),
        answered by the hotline within hours or forwarded and answered by the unit within
        about its deadline (some late, a few forgotten), closed some hours later."""
        rng, now = self.rng, self.now
        g = self._next("case")
        h = f"{g:08X}"
        creator = None if t.channel in WRITTEN else rng.choice(self.ops)
        self.event(g, "created", at, creator, to_status="new")
        wait = rng.expovariate(1 / 120) if t.channel in WRITTEN else rng.uniform(1, 15)
        taken_at = at + timedelta(minutes=wait)
        status, op, forwarded = "new", None, False
        resolved_at = closed_at = None
        if taken_at < now:
            op, status = rng.choice(self.ops), "in_progress"
            self.event(g, "taken", taken_at, op, from_status="new", to_status="in_progress")
            if rng.random() < FORWARD_SHARE:
                resolved_at = self._forward(g, t, op, taken_at)
                forwarded = True
                status = "resolved" if resolved_at else self._held_status
            else:
                hours = rng.expovariate(1 / 3) if rng.random() < 0.95 else rng.uniform(24, 120)
                if taken_at + timedelta(hours=hours) < now:
                    resolved_at = taken_at + timedelta(hours=hours)
                    status = "resolved"
                    self.event(g, "resolved", resolved_at, op, to_status="resolved")
        if resolved_at is not None:
            closing = resolved_at + timedelta(hours=rng.uniform(0.5, 8))
            if closing < now:
                status, closed_at = "closed", closing
                self.event(g, "closed", closed_at, op, to_status="closed")
        self.cases.append(
            (g, f"{h[:4]}-{h[4:]}", t.channel, t.category, t.urgent,
             "critical" if t.urgent else "normal", status, t.description, t.ward_code,
             t.address, False, op, creator, forwarded, f"{h[:4].lower()} {h[4:].lower()} "
             + t.search_rest, at, closed_at or resolved_at or at, resolved_at, closed_at)
        )  # fmt: skip

    def _forward(self, g: int, t: Any, op: int, taken_at: datetime) -> datetime | None:
        """Forward the case to its unit; when the unit answered (before now)."""
        rng, now = self.rng, self.now
        unit = self.route[(t.category, t.ward_code)]
        fwd_at = min(taken_at + timedelta(minutes=rng.uniform(3, 30)), now)
        deadline = timedelta(hours=self.hours[t.category])
        due = fwd_at + deadline
        self.event(
            g, "forwarded", fwd_at, op, unit_id=unit, to_status="forwarded",
            data={"unit": self.unit_codes[unit], "due_at": due.isoformat()},
        )  # fmt: skip
        accepted_at = fwd_at + timedelta(minutes=rng.uniform(10, 120))
        status, finished_at = "pending", None
        if accepted_at < now:
            status = "accepted"
            self.event(g, "accepted", accepted_at, None, unit_id=unit, to_status="accepted")
            share = _unit_takes(rng)
            if share is not None and fwd_at + deadline * share < now:
                finished_at = max(fwd_at + deadline * share, accepted_at)
                status = "resolved"
                self.event(g, "resolved", finished_at, None, unit_id=unit, to_status="resolved")
        else:
            accepted_at = None
        self._held_status = "accepted" if status == "accepted" else "forwarded"
        overdue_at = None
        if due < (finished_at or now):
            overdue_at = due + timedelta(seconds=30)
            self.event(g, "overdue", overdue_at, None, unit_id=unit)
        self.assignments.append(
            (self._next("case_assignment"), g, unit, status, "", due, overdue_at, fwd_at,
             accepted_at, finished_at, "Đã xử lý" if finished_at else None)
        )  # fmt: skip
        return finished_at

    def call(self, t: Any, at: datetime) -> None:
        rng = self.rng
        c = self._next("call")
        caller = "09" + f"{(c * 7907) % 100_000_000:08d}"
        answered = t.outcome == "answered"
        op = rng.choice(self.ops) if answered and t.branch == "operator" else None
        ended = at + timedelta(seconds=t.wait_seconds + t.talk_seconds)
        in_progress = answered and ended >= self.now
        self.calls.append(
            (c, t.line, caller, at,
             at + timedelta(seconds=t.wait_seconds) if answered else None,
             None if in_progress else min(ended, self.now), "", t.branch, t.wait_seconds,
             t.talk_seconds, op, None if in_progress else t.outcome)
        )  # fmt: skip
        if t.outcome == "callback_requested":
            today = at.astimezone(TZ).date() == self.now.astimezone(TZ).date()
            done = not today or rng.random() < 0.5
            self.callbacks.append(
                (self._next("callback"), c, caller, t.line, t.branch or "", at, at,
                 "done" if done else "open",
                 self._before_now(at + timedelta(minutes=rng.uniform(5, 90)), at)
                 if done else None, rng.choice(self.ops) if done else None)
            )  # fmt: skip


CASE_COLUMNS = (
    "id", "code", "channel", "category_code", "urgent", "priority", "status", "description",
    "ward_code", "address", "public", "assignee_id", "created_by_id", "ever_forwarded",
    "search_text", "created_at", "updated_at", "resolved_at", "closed_at",
)  # fmt: skip
ASSIGNMENT_COLUMNS = (
    "id", "case_id", "unit_id", "status", "note", "due_at", "overdue_at", "created_at",
    "accepted_at", "finished_at", "answer",
)  # fmt: skip
EVENT_COLUMNS = (
    "id", "case_id", "kind", "actor_id", "unit_id", "from_status", "to_status", "data", "at",
)  # fmt: skip
CALL_COLUMNS = (
    "id", "line", "caller", "started_at", "answered_at", "ended_at", "menu_path", "branch",
    "queue_wait_seconds", "talk_seconds", "operator_id", "outcome",
)  # fmt: skip
CALLBACK_COLUMNS = (
    "id", "call_id", "caller", "line", "branch", "queued_at", "created_at", "status",
    "done_at", "done_by",
)  # fmt: skip

# The recent days' counters, by the same buckets as datagen.PG_COUNTERS.
RECENT_COUNTERS = [
    "DELETE FROM case_counter WHERE day >= $1",
    "DELETE FROM call_counter WHERE day >= $1",
    "DELETE FROM unit_counter WHERE day >= $1",
    "DELETE FROM operator_counter WHERE day >= $1",
    "DELETE FROM case_counter_delta",
    """INSERT INTO case_counter (day, hour, category_code, channel, shard, created, forwarded,
           urgent)
       SELECT (created_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date,
              extract(hour FROM created_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::int,
              coalesce(category_code, ''), channel, 0, count(*),
              count(*) FILTER (WHERE ever_forwarded), count(*) FILTER (WHERE urgent)
       FROM "case" WHERE (created_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date >= $1
       GROUP BY 1, 2, 3, 4""",
    """INSERT INTO call_counter (day, hour, line, branch, outcome, shard, calls, wait_seconds,
           talk_seconds, answered_20s)
       SELECT (started_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date,
              extract(hour FROM started_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::int,
              line, coalesce(branch, ''), coalesce(outcome, ''), 0, count(*),
              sum(queue_wait_seconds), sum(talk_seconds),
              count(*) FILTER (WHERE answered_at IS NOT NULL AND queue_wait_seconds <= 20)
       FROM call WHERE (started_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date >= $1
         AND (ended_at IS NOT NULL OR answered_at IS NULL)
       GROUP BY 1, 2, 3, 4, 5""",
    """INSERT INTO operator_counter (day, operator_id, shard, answered, talk_seconds)
       SELECT (started_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date, operator_id, 0, count(*),
              sum(talk_seconds)
       FROM call WHERE (started_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date >= $1
         AND operator_id IS NOT NULL AND answered_at IS NOT NULL AND ended_at IS NOT NULL
       GROUP BY 1, 2""",
    """INSERT INTO unit_counter (day, unit_id, shard, received, resolved, overdue)
       SELECT day, unit_id, 0, sum(r), sum(s), sum(o) FROM (
           SELECT (created_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS day, unit_id,
                  1 AS r, 0 AS s, 0 AS o FROM case_assignment
           UNION ALL
           SELECT (finished_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date, unit_id, 0, 1, 0
           FROM case_assignment WHERE status = 'resolved' AND finished_at IS NOT NULL
           UNION ALL
           SELECT (overdue_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date, unit_id, 0, 0, 1
           FROM case_assignment WHERE overdue_at IS NOT NULL
       ) x WHERE day >= $1 GROUP BY day, unit_id""",
]


async def _clear_recent(conn: asyncpg.Connection, n_cases: int, n_calls: int) -> None:
    """Remove the previous layer and whatever the product wrote on top of the history."""
    refs = await conn.fetch(
        "SELECT c.conrelid::regclass::text AS tbl, a.attname AS col, c.confdeltype::text AS del,"
        " c.confrelid::regclass::text AS target"
        " FROM pg_constraint c JOIN pg_attribute a"
        " ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
        " WHERE c.contype = 'f' AND c.confrelid IN ('\"case\"'::regclass, 'call'::regclass)"
    )
    for r in refs:
        if r["del"] == "c":
            continue  # ON DELETE CASCADE goes with the row
        limit = n_cases if r["target"] == '"case"' else n_calls
        await conn.execute(
            f'UPDATE {r["tbl"]} SET "{r["col"]}" = NULL WHERE "{r["col"]}" > $1', limit
        )
    await conn.execute("DELETE FROM call WHERE id > $1", n_calls)
    await conn.execute('DELETE FROM "case" WHERE id > $1', n_cases)
    # Case events of the history (none in the base) and the previous runs' sign-ins, jobs
    # and live events.
    await conn.execute("DELETE FROM case_event WHERE case_id <= $1", n_cases)
    for table in ("user_session", "api_token", "event", "job", "intake_key"):
        await conn.execute(f"DELETE FROM {table}")


async def lay_recent(dsn: str, n_cases: int, n_calls: int, now: datetime) -> Layer:
    """Lay the RECENT_DAYS before `now` on the site database, replacing the previous ones."""
    started = time.monotonic()
    start = now - timedelta(days=RECENT_DAYS)
    if start.astimezone(TZ).date() < CUTOFF_DAY:
        raise RuntimeError(f"the recent layer would overlap the history (before {CUTOFF_DAY})")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SET synchronous_commit = off")
        await _clear_recent(conn, n_cases, n_calls)
        ids = {
            "case": n_cases,
            "call": n_calls,
            "case_assignment": await conn.fetchval(
                "SELECT coalesce(max(id), 0) FROM case_assignment"
            ),
            "case_event": await conn.fetchval("SELECT coalesce(max(id), 0) FROM case_event"),
            "callback": await conn.fetchval("SELECT coalesce(max(id), 0) FROM callback"),
        }
        ops = await conn.fetch("SELECT id FROM \"user\" WHERE role = 'operator' ORDER BY id")
        route = await conn.fetch("SELECT category, ward, unit_id FROM bench_route")
        meta = {
            "ops": [r[0] for r in ops],
            "route": {(r[0], r[1]): r[2] for r in route},
            "unit_codes": dict(await conn.fetch("SELECT id, code FROM unit")),
            "hours": dict(await conn.fetch("SELECT code, forward_hours FROM category")),
        }
        b = _Builder(ids, now, meta)
        tpls, ctpls = case_templates(POOL), call_templates()
        for i, at in enumerate(_slots(start, now, n_cases / SPAN_DAYS)):
            b.case(tpls[((n_cases + i + 1) * 7919) % len(tpls)], at)
        for i, at in enumerate(_slots(start, now, n_calls / SPAN_DAYS)):
            b.call(ctpls[((n_calls + i + 1) * 104729) % len(ctpls)], at)
        async with conn.transaction():
            for table, columns, rows in (
                ("case", CASE_COLUMNS, b.cases),
                ("case_assignment", ASSIGNMENT_COLUMNS, b.assignments),
                ("case_event", EVENT_COLUMNS, b.events),
                ("call", CALL_COLUMNS, b.calls),
                ("callback", CALLBACK_COLUMNS, b.callbacks),
            ):
                await conn.copy_records_to_table(table, records=rows, columns=columns)
            for sql in RECENT_COUNTERS:
                args = (CUTOFF_DAY,) if "$1" in sql else ()
                await conn.execute(sql, *args)
            await _agents(conn, b, now)
            for table, key in (("case", n_cases), ("call", n_calls)):
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), $1)",
                    max(key, ids[table]),
                )
            for table in ("case_assignment", "case_event", "callback"):
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" (SELECT coalesce(max(id), 1) FROM {table}))"
                )
            await conn.execute("UPDATE bench_site SET anchored_at = $1", now)
        for table in ("case", "case_assignment", "case_event", "call", "callback", "agent"):
            await conn.execute(f'VACUUM ANALYZE "{table}"')
        counts = await conn.fetchrow(
            """SELECT
                 (SELECT count(*) FROM "case" WHERE status IN
                     ('new', 'in_progress', 'forwarded', 'accepted')) AS open_cases,
                 (SELECT count(*) FROM case_assignment
                     WHERE status IN ('pending', 'accepted')) AS active,
                 (SELECT count(*) FROM case_assignment
                     WHERE status IN ('pending', 'accepted') AND due_at < $1) AS overdue,
                 (SELECT count(*) FROM "case" WHERE created_at >= $2) AS today""",
            now,
            datetime.combine(now.astimezone(TZ).date(), datetime.min.time(), TZ),
        )
    finally:
        await conn.close()
    layer = Layer(
        anchored_at=now,
        cases=len(b.cases),
        open_cases=counts["open_cases"],
        active_forwardings=counts["active"],
        overdue_forwardings=counts["overdue"],
        cases_today=counts["today"],
        calls=len(b.calls),
        seconds=time.monotonic() - started,
    )
    log(
        f"recent layer as of {now:%Y-%m-%d %H:%M} UTC: {layer.cases:,} cases"
        f" ({layer.cases_today} today), {layer.open_cases:,} open, {layer.active_forwardings:,}"
        f" forwardings held ({layer.overdue_forwardings:,} overdue), {layer.calls:,} calls,"
        f" {layer.seconds:.0f} s"
    )
    return layer


async def _agents(conn: asyncpg.Connection, b: _Builder, now: datetime) -> None:
    """The floor now: operators on a call are busy with it, the rest available or away."""
    on_call = {row[10]: row[0] for row in b.calls if row[5] is None and row[10] is not None}
    rng = random.Random(7)
    rows = []
    for op in b.ops:
        if op in on_call:
            rows.append((op, "busy", on_call[op]))
        else:
            r = rng.random()
            rows.append((op, "available" if r < 0.6 else "busy" if r < 0.75 else "away", None))
    await conn.executemany(
        "UPDATE agent SET status = $2, current_call_id = $3, status_since = $4 WHERE user_id = $1",
        [
            (op, status, call, now - timedelta(minutes=rng.uniform(1, 90)))
            for op, status, call in rows
        ],
    )
