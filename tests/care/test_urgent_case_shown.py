"""The urgent case a followed patient's warning sign opened is given with the patient while it
is open: in the registration's answer and the patient's record (`urgent_case_code`), and on
the patient's page, a link only for those who may open the case."""

from __future__ import annotations

import pytest

from tests.care.helpers import API, check_in, doctor_with_profile, officer_115, register

pytestmark = pytest.mark.anyio


async def test_the_open_urgent_case_is_given_with_the_patient(client, world, signed_in):
    await doctor_with_profile(client, world)
    sick = await register(client, world, spo2=92, respiratory_rate=30)
    code = sick["urgent_case_code"]
    assert code, sick
    well = await register(client, world, name="Trần Văn Một", phone="0987000222")
    assert well["urgent_case_code"] is None
    red = await check_in(client, world, well["id"], spo2=91, respiratory_rate=32)
    for patient, expected in ((sick, code), (well, red["case_code"])):
        got = await client.get(f"{API}/patients/{patient['id']}", headers=world.auth("doctor"))
        assert got.json()["urgent_case_code"] == expected, got.text
    # The page: a supervisor may open the case (a link), the doctor sees its code as text.
    async with signed_in("supervisor") as c:
        page = (await c.get(f"/care/patients/{sick['id']}")).text
    urgent = page.split('id="urgent-case"')[1].split("</dd>")[0]
    assert f'href="/cases/{code}"' in urgent
    async with signed_in("doctor") as c:
        page = (await c.get(f"/care/patients/{sick['id']}")).text
    urgent = page.split('id="urgent-case"')[1].split("</dd>")[0]
    assert code in urgent and "href" not in urgent


async def test_a_resolved_urgent_case_is_no_longer_given(app, client, world):
    await doctor_with_profile(client, world)
    sick = await register(client, world, spo2=92, respiratory_rate=30)
    code = sick["urgent_case_code"]
    # The 115 unit the case was forwarded to takes it and resolves it.
    officer = await officer_115(app, client)
    for verb, body in (("accept", {}), ("resolve", {"answer": "Đã chuyển viện"})):
        r = await client.post(f"/api/v1/cases/{code}/{verb}", json=body, headers=officer)
        assert r.status_code == 200, r.text
    got = await client.get(f"{API}/patients/{sick['id']}", headers=world.auth("doctor"))
    assert got.json()["urgent_case_code"] is None
