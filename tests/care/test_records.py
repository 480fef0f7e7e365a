"""A patient's record through the API: numbers and dates refused with the field named and
a Vietnamese message (English on request), eligibility without the breathing measured, and
the FHIR export (full URLs, one logged read)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import func, select

from hotline.contacts.models import PersonalDataRead
from tests.care.helpers import API, check_in, doctor_with_profile, patient_body, register
from tests.conftest import site_today

pytestmark = pytest.mark.anyio


async def test_check_in_numbers_are_refused_naming_the_field_in_vietnamese(client, world):
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    url = f"{API}/patients/{patient['id']}/checkins"
    doctor = world.auth("doctor")
    cases = [
        ({"temperature": 1e308}, "temperature", "Giá trị ngoài khoảng 30.0–44.0"),
        ({"temperature": "NaN"}, "temperature", "Phải là số hữu hạn"),
        ({"spo2": 97.5}, "spo2", "Phải là số nguyên"),
        ({"pulse": "nhanh"}, "pulse", "Phải là số nguyên"),
    ]
    for body, field, message in cases:
        r = await client.post(url, json=body, headers=doctor)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["field"] == field, (body, r.text)
        assert r.json()["errors"][0]["message"] == message, (body, r.text)
    # A bare NaN in the JSON text, too.
    r = await client.post(
        url,
        content=b'{"temperature": NaN}',
        headers={**doctor, "Content-Type": "application/json"},
    )
    assert r.status_code == 422 and r.json()["field"] == "temperature", r.text
    assert r.json()["errors"][0]["message"] == "Phải là số hữu hạn"
    r = await client.post(url, json={"temperature": "NaN"}, headers={**doctor, "Cookie": "lang=en"})
    assert r.json()["errors"][0]["message"] == "Input should be a finite number", r.text


async def test_a_test_date_after_today_is_refused(client, world):
    await doctor_with_profile(client, world)
    tomorrow = (site_today() + timedelta(days=1)).isoformat()
    for field, value in (("test_date", "2099-01-01"), ("last_dose_date", tomorrow)):
        r = await client.post(
            f"{API}/patients",
            json=patient_body(**{field: value}),
            headers=world.auth("supervisor"),
        )
        assert r.status_code == 422, r.text
        assert r.json()["field"] == field
        assert "sau hôm nay" in r.json()["detail"]
    r = await client.post(
        f"{API}/patients",
        json=patient_body(test_date="10/08/2021"),
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 422 and r.json()["field"] == "test_date"
    assert r.json()["errors"][0]["message"] == "Ngày không hợp lệ: dùng dạng YYYY-MM-DD"
    # Today is fine.
    await register(client, world, test_date=site_today().isoformat())


async def test_home_care_eligibility_needs_spo2_and_respiratory_rate(client, world):
    await doctor_with_profile(client, world)
    unknown = await register(client, world, phone="0903000011")
    assert unknown["eligible"] is None
    assert unknown["eligibility"]["decision"] == "needs_assessment"
    missing = {r["rule"] for r in unknown["eligibility"]["reasons"] if r["ok"] is None}
    assert missing == {"spo2", "respiratory_rate"}
    half = await register(client, world, phone="0903000012", spo2=98)
    assert half["eligible"] is None
    known = await register(client, world, phone="0903000013", spo2=98, respiratory_rate=16)
    assert known["eligible"] is True and known["eligibility"]["decision"] == "eligible"
    low = await register(client, world, phone="0903000014", spo2=94)
    assert low["eligible"] is False and low["eligibility"]["decision"] == "not_eligible"
    r = await client.get(f"{API}/patients?eligible=true", headers=world.auth("supervisor"))
    assert [p["id"] for p in r.json()] == [known["id"]]


async def test_fhir_entries_have_full_urls_and_one_export_is_one_logged_read(app, client, world):
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    await check_in(client, world, patient["id"], spo2=93, respiratory_rate=26, pulse=100)

    async def reads() -> int:
        async with app.state.hotline.unit_of_work() as session:
            return int(
                await session.scalar(
                    select(func.count()).where(PersonalDataRead.contact_id == patient["contact_id"])
                )
                or 0
            )

    before = await reads()
    r = await client.get(f"{API}/patients/{patient['id']}/fhir", headers=world.auth("doctor"))
    assert r.status_code == 200, r.text
    assert await reads() == before + 1
    Bundle.model_validate(r.json())
    entries = r.json()["entry"]
    urls = [e["fullUrl"] for e in entries]
    assert all(u.startswith("urn:uuid:") for u in urls) and len(set(urls)) == len(urls)
    patient_url = next(e["fullUrl"] for e in entries if e["resource"]["resourceType"] == "Patient")
    subjects = {
        e["resource"]["subject"]["reference"] for e in entries if "subject" in e["resource"]
    }
    assert subjects == {patient_url}
    # The same export again names every resource by the same urn.
    again = await client.get(f"{API}/patients/{patient['id']}/fhir", headers=world.auth("doctor"))
    assert [e["fullUrl"] for e in again.json()["entry"]] == urls
