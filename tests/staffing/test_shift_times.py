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
