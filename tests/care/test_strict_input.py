"""Care input is refused, naming the field, rather than silently changed: unknown fields
(a misspelt `SpO2` would leave the SpO2 out and the patient green), numbers beyond any
range answered with the measure's own range, temperatures scored at the chart's 0.1 °C."""

from __future__ import annotations

from typing import Any

import pytest

from tests.care.helpers import API, check_in, doctor_with_profile, patient_body, register

pytestmark = pytest.mark.anyio


def refused(r: Any, field: str) -> str:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == field, r.text
    return str(r.json()["errors"][0]["message"])


async def test_unknown_check_in_fields_are_refused_by_name(client, world):
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    r = await client.post(
        f"{API}/patients/{patient['id']}/checkins",
        json={"SpO2": 85, "pulse": 80},
        headers=world.auth("doctor"),
    )
    assert refused(r, "SpO2") == "Không nhận trường này"
    listed = await client.get(
        f"{API}/patients/{patient['id']}/checkins", headers=world.auth("doctor")
    )
    assert [c for c in listed.json() if c["source"] == "doctor"] == []


async def test_unknown_registration_fields_are_refused_by_name(client, world):
    await doctor_with_profile(client, world)
    r = await client.post(
        f"{API}/patients",
        json=patient_body(Spo2=85, respiratoryRate=30),
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 422, r.text
    assert {e["field"] for e in r.json()["errors"]} == {"Spo2", "respiratoryRate"}
    listed = await client.get(f"{API}/patients", headers=world.auth("supervisor"))
    assert listed.json() == []


async def test_unknown_facility_and_consult_fields_are_refused_by_name(client, world):
    r = await client.post(
        f"{API}/facilities",
        json={"unit_id": world.units["ward_a"], "name": "Trạm Y tế", "general_beds_total": 20},
        headers=world.auth("admin"),
    )
    refused(r, "general_beds_total")
    r = await client.post(
        f"{API}/consults",
        json={"phone": "0912 345 678", "question": "Con tôi sốt 39 độ"},
        headers=world.auth("operator"),
    )
    refused(r, "question")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("spo2", 1e400, "Giá trị ngoài khoảng 50–100"),
        ("spo2", -1e400, "Giá trị ngoài khoảng 50–100"),
        ("spo2", 1e300, "Giá trị ngoài khoảng 50–100"),
        ("pulse", 9223372036854775808, "Giá trị ngoài khoảng 20–250"),
        ("respiratory_rate", 1e400, "Giá trị ngoài khoảng 1–80"),
        ("temperature", 1e400, "Giá trị ngoài khoảng 30.0–44.0"),
        ("spo2", 97.5, "Phải là số nguyên"),
        ("spo2", 101, "Giá trị ngoài khoảng 50–100"),
    ],
)
async def test_a_measure_beyond_any_range_gets_its_own_range(client, world, field, value, message):
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    r = await client.post(
        f"{API}/patients/{patient['id']}/checkins",
        content=f'{{"{field}": {value!r}}}'.replace("inf", "1e400"),
        headers={**world.auth("doctor"), "content-type": "application/json"},
    )
    assert refused(r, field) == message


async def test_a_whole_number_sent_as_a_float_is_taken(client, world):
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    done = await check_in(client, world, patient["id"], spo2=97.0, pulse=80)
    assert done["news2_parts"]["spo2"] == 0
    listed = await client.get(
        f"{API}/patients/{patient['id']}/checkins", headers=world.auth("doctor")
    )
    assert listed.json()[0]["spo2"] == 97 and isinstance(listed.json()[0]["spo2"], int)


@pytest.mark.parametrize(
    ("temperature", "points"),
    [(35.04, 3), (35.05, 1), (36.04, 1), (36.05, 0), (38.04, 0), (38.05, 1), (39.04, 1),
     (39.05, 2)],
)  # fmt: skip
async def test_news2_scores_temperature_at_the_charts_tenth_of_a_degree(
    client, world, temperature, points
):
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    done = await check_in(client, world, patient["id"], temperature=temperature)
    assert done["news2_parts"]["temperature"] == points


HIDDEN = ["Số 3\u202e phố Đội Cấn", "Số 3\u200b phố Đội Cấn", "Số 3\x07 phố Đội Cấn"]


@pytest.mark.parametrize("address", HIDDEN)
async def test_hidden_characters_in_an_address_are_refused(client, world, address):
    await doctor_with_profile(client, world)
    r = await client.post(
        f"{API}/patients", json=patient_body(address=address), headers=world.auth("supervisor")
    )
    refused(r, "address")
    patient = await register(client, world)
    r = await client.patch(
        f"{API}/patients/{patient['id']}", json={"address": address}, headers=world.auth("doctor")
    )
    refused(r, "address")


async def test_a_name_of_spaces_is_refused_and_an_empty_edit_too(client, world):
    await doctor_with_profile(client, world)
    r = await client.post(
        f"{API}/patients", json=patient_body(name="   "), headers=world.auth("supervisor")
    )
    refused(r, "name")
    patient = await register(client, world)
    for name in ("", "  "):
        r = await client.patch(
            f"{API}/patients/{patient['id']}", json={"name": name}, headers=world.auth("doctor")
        )
        refused(r, "name")


@pytest.mark.parametrize(("age", "ok"), [(9, False), (10, True), (4, False), (30, True)])
async def test_pregnancy_at_an_age_it_cannot_be_is_refused(client, world, age, ok):
    await doctor_with_profile(client, world)
    r = await client.post(
        f"{API}/patients",
        json=patient_body(age=age, pregnant=True),
        headers=world.auth("supervisor"),
    )
    if ok:
        assert r.status_code == 201, r.text
    else:
        refused(r, "pregnant")


async def test_pregnancy_edited_onto_a_child_is_refused(client, world):
    await doctor_with_profile(client, world)
    patient = await register(client, world, age=4, vaccine_doses=0)
    r = await client.patch(
        f"{API}/patients/{patient['id']}", json={"pregnant": True}, headers=world.auth("doctor")
    )
    refused(r, "pregnant")


@pytest.mark.parametrize(
    ("field", "value", "ok"),
    [
        ("test_date", "1900-01-01", False),
        ("test_date", "2019-12-31", False),
        ("test_date", "2020-01-01", True),
        ("last_dose_date", "2020-11-30", False),
        ("last_dose_date", "2020-12-01", True),
    ],
)
async def test_dates_before_covid_are_refused(client, world, field, value, ok):
    await doctor_with_profile(client, world)
    r = await client.post(
        f"{API}/patients", json=patient_body(**{field: value}), headers=world.auth("supervisor")
    )
    if ok:
        assert r.status_code == 201, r.text
    else:
        refused(r, field)
    if not ok:
        patient = await register(client, world, phone="0903999999", name="Người Khác")
        r = await client.patch(
            f"{API}/patients/{patient['id']}", json={field: value}, headers=world.auth("doctor")
        )
        refused(r, field)


@pytest.mark.parametrize(("systolic", "diastolic", "ok"), [(80, 120, False), (120, 120, False),
                                                           (121, 120, True)])  # fmt: skip
async def test_a_diastolic_at_or_above_the_systolic_is_refused(
    client, world, systolic, diastolic, ok
):
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    r = await client.post(
        f"{API}/patients/{patient['id']}/checkins",
        json={"systolic_bp": systolic, "diastolic_bp": diastolic},
        headers=world.auth("doctor"),
    )
    if ok:
        assert r.status_code == 201, r.text
    else:
        refused(r, "diastolic_bp")


async def test_a_doctor_naming_the_doctor_is_forbidden(client, world):
    doctor = await doctor_with_profile(client, world)
    r = await client.post(
        f"{API}/patients", json=patient_body(doctor_id=doctor), headers=world.auth("doctor")
    )
    assert r.status_code == 403, r.text
    assert r.json()["field"] == "doctor_id"


# Every number of the care bodies that has a range: a value beyond 64 bits, or infinite
# (1e400 in JSON), is answered with the field's own range, as a value just past it is.
REGISTRATION_NUMBERS = [
    ("spo2", "Phải nhỏ hơn hoặc bằng 100", "Phải lớn hơn hoặc bằng 50"),
    ("respiratory_rate", "Phải nhỏ hơn hoặc bằng 80", "Phải lớn hơn hoặc bằng 1"),
    ("age", "Phải nhỏ hơn hoặc bằng 130", "Phải lớn hơn hoặc bằng 0"),
    ("vaccine_doses", "Phải nhỏ hơn hoặc bằng 10", "Phải lớn hơn hoặc bằng 0"),
]


def _raw(body: dict[str, Any], field: str, number: str) -> str:
    """The body as JSON text with `number` written as is (json.dumps cannot write 1e400)."""
    import json

    return json.dumps({**body, field: 0}).replace(f'"{field}": 0', f'"{field}": {number}')


@pytest.mark.parametrize(("field", "above", "below"), REGISTRATION_NUMBERS)
@pytest.mark.parametrize("number", ["1e400", "-1e400", "9223372036854775808", "1e300"])
async def test_a_huge_registration_number_gets_the_fields_own_range(
    client, world, field, above, below, number
):
    await doctor_with_profile(client, world)
    r = await client.post(
        f"{API}/patients",
        content=_raw(patient_body(), field, number),
        headers={**world.auth("supervisor"), "content-type": "application/json"},
    )
    assert refused(r, field) == (below if number.startswith("-") else above)
    listed = await client.get(f"{API}/patients", headers=world.auth("supervisor"))
    assert listed.json() == []


@pytest.mark.parametrize(
    ("url", "field", "body", "message"),
    [
        ("/doctors", "years_experience", {}, "Phải nhỏ hơn hoặc bằng 1000"),
        ("/doctors", "capacity", {"years_experience": 3}, "Phải nhỏ hơn hoặc bằng 100000"),
        ("/facilities", "beds_total", {"name": "Trạm Y tế"}, "Phải nhỏ hơn hoặc bằng 100000"),
    ],
)
async def test_huge_numbers_in_other_care_bodies_get_their_own_range(
    client, world, url, field, body, message
):
    from tests.agents.test_agents import user_id

    full = dict(body)
    if url == "/doctors":
        full["user_id"] = await user_id(client, world, "doctor")
    else:
        full["unit_id"] = world.units["ward_a"]
    r = await client.post(
        f"{API}{url}",
        content=_raw(full, field, "1e400"),
        headers={**world.auth("admin"), "content-type": "application/json"},
    )
    assert refused(r, field) == message


async def test_a_huge_number_in_a_nested_care_field_gets_its_own_range(client, world):
    from tests.agents.test_agents import user_id

    body = {
        "user_id": await user_id(client, world, "doctor"),
        "years_experience": 3,
        "availability": [{"group": "consult", "start": "08:00", "end": "11:00", "weekdays": [0]}],
    }
    text = _raw(body, "years_experience", "3").replace('"weekdays": [0]', '"weekdays": [1e400]')
    r = await client.post(
        f"{API}/doctors",
        content=text,
        headers={**world.auth("admin"), "content-type": "application/json"},
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["message"] == "Phải nhỏ hơn hoặc bằng 6"


@pytest.mark.parametrize("field", ["age", "vaccine_doses", "spo2", "respiratory_rate"])
async def test_a_boolean_for_a_registration_number_is_refused(client, world, field):
    # `"age": true` was taken as 1: a one-year-old, scored with a child's breathing limits.
    await doctor_with_profile(client, world)
    r = await client.post(
        f"{API}/patients",
        json=patient_body(**{field: True}),
        headers=world.auth("supervisor"),
    )
    assert refused(r, field) == "Phải là số nguyên"
    listed = await client.get(f"{API}/patients", headers=world.auth("supervisor"))
    assert listed.json() == []


@pytest.mark.parametrize("field", ["spo2", "pulse", "temperature"])
async def test_a_boolean_for_a_measure_is_refused_as_not_a_number(client, world, field):
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    r = await client.post(
        f"{API}/patients/{patient['id']}/checkins",
        json={field: True},
        headers=world.auth("doctor"),
    )
    assert refused(r, field) == "Phải là số"


async def test_a_boolean_for_beds_or_experience_is_refused(client, world):
    from tests.agents.test_agents import user_id

    r = await client.post(
        f"{API}/facilities",
        json={"unit_id": world.units["ward_a"], "name": "Trạm Y tế", "beds_free": True},
        headers=world.auth("admin"),
    )
    assert refused(r, "beds_free") == "Phải là số nguyên"
    r = await client.post(
        f"{API}/doctors",
        json={"user_id": await user_id(client, world, "doctor"), "years_experience": True},
        headers=world.auth("admin"),
    )
    assert refused(r, "years_experience") == "Phải là số nguyên"


@pytest.mark.parametrize(("url", "field"), [("/patients", "age"), ("/facilities", "beds_total")])
async def test_nan_for_a_whole_number_is_not_called_out_of_range(client, world, url, field):
    # NaN is no number beyond 64 bits: the answer says it is not a finite number.
    await doctor_with_profile(client, world)
    body = (
        patient_body()
        if url == "/patients"
        else {"unit_id": world.units["ward_a"], "name": "Trạm Y tế"}
    )
    r = await client.post(
        f"{API}{url}",
        content=_raw(body, field, "NaN"),
        headers={**world.auth("admin"), "content-type": "application/json"},
    )
    assert refused(r, field) == "Phải là số hữu hạn"
