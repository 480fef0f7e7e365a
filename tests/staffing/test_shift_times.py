"""A shift's start given with an offset is the same instant at the site: 23:00Z and
06:00+07:00 and 06:00 are one morning shift; the API answers in the site's zone, and the
roster's shift times follow."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import site_today

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("given", ["23:00:00Z", "06:00:00+07:00", "06:00", "01:00:00+02:00"])
async def test_a_shift_start_with_an_offset_is_stored_as_the_sites_time(
    client, world, given
) -> None:
    sup = world.auth("supervisor")
    body = {"code": "som", "name": "Ca sớm", "starts_at": given, "hours": 4, "operators": 2}
    r = await client.put("/api/v1/shifts", json=body, headers=sup)
    assert r.status_code == 200, r.text
    assert r.json()["starts_at"] == "06:00:00+07:00"
    assert r.json()["timezone"] == "Asia/Ho_Chi_Minh"
    listed = (await client.get("/api/v1/shifts", headers=sup)).json()
    assert next(s for s in listed if s["code"] == "som")["starts_at"] == "06:00:00+07:00"
    day = site_today() + timedelta(days=1)
    roster = (await client.get(f"/api/v1/roster?from={day}&to={day}", headers=sup)).json()
    early = next(s for s in roster["shifts"] if s["code"] == "som")
    assert early["start"] == f"{day}T06:00:00+07:00"
    assert early["end"] == f"{day}T10:00:00+07:00"


async def test_a_changed_shift_keeps_the_times_of_its_begun_places_and_retimes_the_future(
    app, client, world
) -> None:
    """A shift begun (yesterday's, and today's if it has begun) keeps the times it was
    worked at; the days still to come follow the new times."""
    from datetime import datetime

    from hotline.auth.models import Role
    from hotline.auth.service import Actor
    from hotline.staffing.service import save_shift
    from tests.conftest import SITE_TZ

    sup = world.auth("supervisor")
    lead = Actor(user_id=None, username="truongca", role=Role.SUPERVISOR)
    today = site_today()
    # A shift that began an hour ago today, running 4 hours.
    begun = (datetime.now(SITE_TZ) - timedelta(hours=1)).replace(second=0, microsecond=0)
    starts = begun.strftime("%H:%M")
    async with app.state.hotline.unit_of_work() as session:
        await save_shift(
            session,
            actor=lead,
            code="som",
            name="Ca sớm",
            starts_at=starts,
            hours=4,
            operators=2,
        )
    first, last = today - timedelta(days=2), today + timedelta(days=2)

    async def spans() -> dict[str, tuple[str, str]]:
        r = await client.get(f"/api/v1/roster?from={first}&to={last}", headers=sup)
        assert r.status_code == 200, r.text
        return {s["day"]: (s["start"], s["end"]) for s in r.json()["shifts"] if s["code"] == "som"}

    before = await spans()
    later = (begun + timedelta(hours=3)).strftime("%H:%M")
    r = await client.put(
        "/api/v1/shifts",
        json={"code": "som", "name": "Ca sớm", "starts_at": later, "hours": 2, "operators": 2},
        headers=sup,
    )
    assert r.status_code == 200, r.text
    after = await spans()
    past = [d for d in before if d <= str(begun.date())]
    future = [d for d in before if d > str(begun.date())]
    assert past and future
    assert {d: after[d] for d in past} == {d: before[d] for d in past}
    for d in future:
        start = datetime.fromisoformat(after[d][0])
        assert start.strftime("%H:%M") == later, after[d]
        assert datetime.fromisoformat(after[d][1]) - start == timedelta(hours=2)
    # Changed again: the days the first change had kept keep their times still.
    r = await client.put(
        "/api/v1/shifts",
        json={"code": "som", "name": "Ca sớm", "starts_at": starts, "hours": 3, "operators": 2},
        headers=sup,
    )
    assert r.status_code == 200, r.text
    again = await spans()
    assert {d: again[d] for d in past} == {d: before[d] for d in past}
    assert all(
        datetime.fromisoformat(again[d][1]) - datetime.fromisoformat(again[d][0])
        == timedelta(hours=3)
        for d in future
    )
