"""The patient's check-in link (`/cham-soc/{token}`) reads what is typed as a number only
when it is written with the digits 0-9; anything else, however long, is named next to its
field with everything typed kept, never a bare refusal page."""

from __future__ import annotations

from typing import Any

import pytest

from tests.care.helpers import API, doctor_with_profile, register

pytestmark = pytest.mark.anyio


async def _link_form(client: Any, world: Any) -> tuple[dict[str, Any], str, str]:
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    link = patient["checkin_link"]
    page = await client.get(link)
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    return patient, link, csrf


async def _link_checkins(client: Any, world: Any, patient: dict[str, Any]) -> list[Any]:
    r = await client.get(f"{API}/patients/{patient['id']}/checkins", headers=world.auth("doctor"))
    return [c for c in r.json() if c["source"] == "link"]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        # Too long for the form field: was a refusal page that lost what was typed.
        ("99999999999999999999999", "Giá trị ngoài khoảng 50–100"),
        ("9" * 300, "Giá trị ngoài khoảng 50–100"),
        ("9" * 5000, "Cần nhập một số"),  # beyond what int() reads
        # Python's int() reads these, the patient did not mean them as 100 or 97.
        ("1_00", "Cần nhập một số"),
        ("９７", "Cần nhập một số"),
        ("٩٧", "Cần nhập một số"),
    ],
)
async def test_a_typed_spo2_that_is_not_a_plain_number_is_named_next_to_it(
    client, world, typed, message
):
    patient, link, csrf = await _link_form(client, world)
    r = await client.post(link, data={"spo2": typed, "pulse": "88", "csrf": csrf})
    assert r.status_code == 422, r.text
    assert f'id="spo2-error">{message}</p>' in r.text
    assert 'value="88"' in r.text  # the other answers are kept
    assert await _link_checkins(client, world, patient) == []


async def test_a_plain_number_with_spaces_around_is_still_taken(client, world):
    patient, link, csrf = await _link_form(client, world)
    r = await client.post(link, data={"spo2": " 97 ", "temperature": "37,2", "csrf": csrf})
    assert r.status_code == 200, r.text
    taken = await _link_checkins(client, world, patient)
    assert [(c["spo2"], c["temperature"]) for c in taken] == [(97, 37.2)]


async def test_the_doctors_check_in_form_reads_only_plain_digits_too(client, world, signed_in):
    from tests.auth.test_auth import _csrf_of

    await doctor_with_profile(client, world)
    patient = await register(client, world)
    url = f"/care/patients/{patient['id']}"
    async with signed_in("doctor") as c:
        csrf = _csrf_of((await c.get(url)).text)
        r = await c.post(f"{url}/checkins", data={"csrf": csrf, "spo2": "9_7", "pulse": "８８"})
    assert r.status_code == 422, r.text
    assert 'id="spo2-error">Cần nhập một số</p>' in r.text
    assert 'id="pulse-error">Cần nhập một số</p>' in r.text
