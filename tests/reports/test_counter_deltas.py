"""Intake's report increments: appended, folded by the worker, counted exactly either way."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from hotline.jobs.worker import run_worker
from hotline.reports.counters import fold_case_deltas
from hotline.reports.models import CaseCounter, CaseCounterDelta
from tests.conftest import new_case_body

pytestmark = pytest.mark.anyio


async def _summary(client, world) -> dict:
    today = date.today()
    r = await client.get(
        "/api/v1/reports/summary",
        # a day either side: the site's local date may differ from this machine's
        params={"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=1))},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 200, r.text
    return r.json()["requests"]


async def _table_total(app, model) -> int:
    async with app.state.hotline.sessionmaker() as s:
        return int(await s.scalar(select(func.coalesce(func.sum(model.created), 0))))


async def test_report_counts_each_intake_before_and_after_the_worker_folds(
    app, client, world, settings
):
    bodies = [
        new_case_body(category="ho_tro_kho_khan"),
        new_case_body(category="ho_tro_kho_khan", urgent=True),
        new_case_body(category=None, channel="zalo"),
    ]
    for body in bodies:
        r = await client.post("/api/v1/cases", json=body, headers=world.auth("operator"))
        assert r.status_code == 201, r.text
    # Intake leaves no case uncategorised (triage fills a missing category): clear it by hand.
    r = await client.patch(
        f"/api/v1/cases/{r.json()['code']}", json={"category": None}, headers=world.auth("operator")
    )
    assert r.status_code == 200, r.text
    before = await _summary(client, world)
    assert before["total"] == 3
    assert before["urgent"] == 1
    assert before["by_category"] == {"ho_tro_kho_khan": 2, "uncategorised": 1}
    assert before["by_channel"] == {"phone": 2, "zalo": 1}

    await run_worker(settings, once=True)

    assert await _table_total(app, CaseCounterDelta) == 0
    assert await _table_total(app, CaseCounter) == 3
    assert await _summary(client, world) == before


async def test_folding_sums_deltas_into_counters_and_empties_the_table(app):
    state = app.state.hotline
    day = date(2021, 8, 19)
    async with state.unit_of_work() as s:
        s.add_all(
            [
                CaseCounterDelta(
                    day=day,
                    hour=9,
                    category_code="cap_cuu",
                    channel="phone",
                    created=1,
                    forwarded=0,
                    urgent=u,
                )
                for u in (1, 1, 0)
            ]
            + [
                CaseCounterDelta(
                    day=day,
                    hour=10,
                    category_code="",
                    channel="web",
                    created=1,
                    forwarded=0,
                    urgent=0,
                )
            ]
        )
    async with state.unit_of_work() as s:
        assert await fold_case_deltas(s, limit=3) == 3
    async with state.unit_of_work() as s:
        assert await fold_case_deltas(s) == 1
    async with state.unit_of_work() as s:
        assert await fold_case_deltas(s) == 0
    async with state.sessionmaker() as s:
        rows = (
            await s.execute(
                select(
                    CaseCounter.hour,
                    CaseCounter.category_code,
                    func.sum(CaseCounter.created),
                    func.sum(CaseCounter.urgent),
                )
                .group_by(CaseCounter.hour, CaseCounter.category_code)
                .order_by(CaseCounter.hour)
            )
        ).all()
    assert [tuple(r) for r in rows] == [(9, "cap_cuu", 3, 2), (10, "", 1, 0)]
