"""The lists of followed patients (the worklist, the patients list) say which numbers a
household shares, as the patient's page does, and the worklist's row asks who is speaking."""

from __future__ import annotations

import pytest

from tests.care.helpers import API, doctor_with_profile, register

pytestmark = pytest.mark.anyio

SHARED = "0912345678"
SHARED_E164 = "+84912345678"
HINT = "Số dùng chung với người khác trong hộ: hỏi rõ là ai trước khi ghi chỉ số."


async def test_lists_and_the_worklist_say_which_number_is_shared(client, world, signed_in):
    await doctor_with_profile(client, world)
    lan = await register(client, world, name="Nguyễn Thị Lan", age=35, phone=SHARED)
    be = await register(client, world, name="Nguyễn Văn Bé", age=6, phone=SHARED)
    alone = await register(client, world, name="Trần Văn Một", phone="0987000222")
    expected = {lan["id"]: [SHARED_E164], be["id"]: [SHARED_E164], alone["id"]: []}
    for path, who in (("/worklist", "doctor"), ("/patients", "supervisor")):
        r = await client.get(f"{API}{path}", headers=world.auth(who))
        assert r.status_code == 200, r.text
        assert {p["id"]: p["shared_phones"] for p in r.json()} == expected, path
    async with signed_in("doctor") as c:
        page = await c.get("/care/worklist")
    assert page.status_code == 200
    rows = {pid: page.text.split(f'id="patient-{pid}"')[1].split("</tr>")[0] for pid in expected}
    assert HINT in rows[lan["id"]] and HINT in rows[be["id"]]
    assert HINT not in rows[alone["id"]]
