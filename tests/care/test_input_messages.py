"""Refusals of care input in the page's language: pydantic's English "or" never reaches a
Vietnamese message (an enum's values are listed)."""

from __future__ import annotations

import pytest

from tests.care.helpers import API, doctor_with_profile, patient_body

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("field", "value"),
    [("status", "F2"), ("test_type", "pcr"), ("spo2", 120)],
)
async def test_care_input_refusals_are_vietnamese(client, world, field, value):
    await doctor_with_profile(client, world)
    r = await client.post(
        f"{API}/patients", json=patient_body(**{field: value}), headers=world.auth("supervisor")
    )
    assert r.status_code == 422 and r.json()["field"] == field
    message = r.json()["errors"][0]["message"]
    assert " or " not in message and "Input should" not in message, message


async def test_an_enum_refusal_lists_the_values_in_the_pages_language(client, world):
    r = await client.post(
        f"{API}/patients", json=patient_body(status="F2"), headers=world.auth("supervisor")
    )
    assert r.json()["errors"][0]["message"] == "Phải là một trong: F0, F1"
    client.cookies.set("lang", "en")
    r = await client.post(
        f"{API}/patients", json=patient_body(status="F2"), headers=world.auth("supervisor")
    )
    assert r.json()["errors"][0]["message"] == "Input should be one of: F0, F1"
