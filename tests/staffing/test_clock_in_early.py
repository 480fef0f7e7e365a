"""The clock-in tolerance is a setting: with HOTLINE_STAFFING_CLOCK_IN_EARLY_MINUTES=240 the
people of a shift starting within two hours may clock in already."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.settings import Settings
from tests.staffing.test_clock_in import _shift_soon
from tests.staffing.test_roster_rules import _me

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        var_dir=tmp_path / "var",
        site_province_code="01",
        staffing_clock_in_early_minutes=240,
    )


async def test_with_a_longer_tolerance_a_shift_starting_soon_lets_its_people_clock_in(
    client, world
) -> None:
    day, shift_id = await _shift_soon(client, world)
    operator = await _me(client, world, "operator")
    r = await client.post(
        "/api/v1/roster",
        json={"day": day, "shift_id": shift_id, "user_id": operator},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 201, r.text
    r = await client.post("/api/v1/shifts/clock/in", headers=world.auth("operator"))
    assert r.status_code == 200, r.text
