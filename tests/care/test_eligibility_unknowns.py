"""Eligibility when what decides is not known, and a child's breathing judged by a child's
limits: an unknown dose date or age that decides is a doctor's assessment, never a refusal."""

from __future__ import annotations

import pytest

from tests.care.helpers import doctor_with_profile, register

pytestmark = pytest.mark.anyio

WELL = {"spo2": 98, "respiratory_rate": 16}


def _rule(patient: dict, rule: str) -> dict:
    (found,) = [r for r in patient["eligibility"]["reasons"] if r["rule"] == rule]
    return found


async def test_one_dose_without_its_date_needs_assessment_when_the_date_decides(client, world):
    await doctor_with_profile(client, world)
    # 60 years old: only the vaccination can qualify them, and its date is not known.
    p = await register(
        client, world, phone="0903666001", age=60, vaccine_doses=1, last_dose_date=None, **WELL
    )
    assert p["eligibility"]["decision"] == "needs_assessment", p["eligibility"]
    reason = _rule(p, "vaccination_or_low_risk")
    assert reason["ok"] is None and "chưa rõ ngày tiêm" in reason["message"]
    # Young and healthy: the date decides nothing.
    young = await register(
        client, world, phone="0903666002", age=30, vaccine_doses=1, last_dose_date=None, **WELL
    )
    assert young["eligible"] is True
    # With the date, the rule decides.
    dated = await register(
        client, world, phone="0903666003", age=60, vaccine_doses=1,
        last_dose_date="2021-07-01", **WELL,
    )  # fmt: skip
    assert dated["eligible"] is True


async def test_a_childs_breathing_is_judged_by_the_childs_limits(client, world):
    await doctor_with_profile(client, world)
    child = await register(client, world, phone="0903666011", age=3, spo2=98, respiratory_rate=30)
    assert child["eligible"] is True, child["eligibility"]
    assert _rule(child, "respiratory_rate")["ok"] is True
    # At the child's warning limit: a warning sign, not eligible.
    fast = await register(client, world, phone="0903666012", age=3, spo2=98, respiratory_rate=40)
    assert fast["eligible"] is False
    assert _rule(fast, "respiratory_rate")["ok"] is False
    # An 8-year-old: 29 qualifies, 30 does not.
    assert (await register(client, world, phone="0903666013", age=8, spo2=98, respiratory_rate=29))[
        "eligible"
    ] is True
    older = await register(client, world, phone="0903666014", age=8, spo2=98, respiratory_rate=30)
    assert older["eligible"] is False
    # An adult as before.
    adult = await register(client, world, phone="0903666015", age=30, spo2=98, respiratory_rate=24)
    assert adult["eligible"] is False


async def test_an_unknown_age_above_the_adult_breathing_limit_needs_assessment(client, world):
    await doctor_with_profile(client, world)
    p = await register(
        client, world, phone="0903666021", age=None, vaccine_doses=2, spo2=98,
        respiratory_rate=26,
    )  # fmt: skip
    assert p["eligibility"]["decision"] == "needs_assessment", p["eligibility"]
    reason = _rule(p, "respiratory_rate")
    assert reason["ok"] is None and "chưa rõ tuổi" in reason["message"]
