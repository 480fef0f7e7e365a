"""Both check-in forms (the doctor's on the patient page, the patient's link page) tell
"symptoms not asked" (nothing ticked: the earlier ones carried forward, and shown as such)
from "no symptoms now" (the explicit choice: recorded as none, clearing them) and from the
symptoms ticked; "no symptoms" with a symptom ticked is a mistake named next to the field."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.auth.test_auth import _csrf_of
from tests.care.helpers import API, doctor_with_profile, register

pytestmark = pytest.mark.anyio


async def _latest(client: Any, world: Any, patient: dict[str, Any]) -> dict[str, Any]:
    r = await client.get(f"{API}/patients/{patient['id']}/checkins", headers=world.auth("doctor"))
    return r.json()[0]


async def _with_cyanosis(client: Any, world: Any) -> dict[str, Any]:
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    r = await client.post(
        f"{API}/patients/{patient['id']}/checkins",
        json={"spo2": 97, "symptoms": ["cyanosis", "fever"]},
        headers=world.auth("doctor"),
    )
    assert r.status_code == 201, r.text
    return patient


async def test_the_doctors_form_tells_not_asked_from_none_and_shows_what_is_carried(
    client, world, signed_in
):
    patient = await _with_cyanosis(client, world)
    url = f"/care/patients/{patient['id']}"
    async with signed_in("doctor") as c:
        page = await c.get(url)
        # The form says which symptoms stand if none is ticked, and offers "none now".
        standing = re.search(r'id="symptoms-standing"[^>]*>(.*?)</p>', page.text, re.DOTALL)
        assert standing and standing[1] == (
            "Nếu chưa hỏi, triệu chứng ghi lần trước vẫn được tính: Tím tái, Sốt"
        )
        assert re.search(
            r'<label><input type="checkbox" id="no_symptoms" name="no_symptoms" value="1"> '
            r"Không có triệu chứng nào</label>",
            page.text,
        )
        csrf = _csrf_of(page.text)
        # Nothing ticked: not asked, the earlier symptoms carried and named on the page.
        r = await c.post(f"{url}/checkins", data={"csrf": csrf, "spo2": "96"})
        assert r.status_code == 303
        latest = await _latest(client, world, patient)
        assert latest["symptoms_recorded"] is False
        assert latest["symptoms_carried"] == ["cyanosis", "fever"]
        shown = (await c.get(url)).text
        carried = re.search(r'id="latest-carried"[^>]*>(.*?)</p>', shown, re.DOTALL)
        assert carried and carried[1] == (
            "Lần đo này chưa hỏi triệu chứng: triệu chứng ghi lần trước vẫn được tính: Tím tái, Sốt"
        )
        # "No symptoms" with one ticked: refused next to the field, both kept.
        r = await c.post(
            f"{url}/checkins",
            data={"csrf": csrf, "spo2": "96", "no_symptoms": "1", "symptoms": ["fever"]},
        )
        assert r.status_code == 422
        assert re.search(r'id="symptoms-error">[^<]*Không có triệu chứng nào', r.text)
        assert 'value="fever" checked' in r.text
        assert 'name="no_symptoms" value="1" checked' in r.text
        assert (await _latest(client, world, patient))["spo2"] == 96
        assert len((await client.get(
            f"{API}/patients/{patient['id']}/checkins", headers=world.auth("doctor")
        )).json()) == 2  # fmt: skip
        # "No symptoms": recorded as none, the cyanosis gone.
        r = await c.post(f"{url}/checkins", data={"csrf": csrf, "spo2": "97", "no_symptoms": "1"})
        assert r.status_code == 303
        latest = await _latest(client, world, patient)
        assert latest["symptoms"] == [] and latest["symptoms_recorded"] is True
        assert "symptoms_carried" not in latest and latest["warning_signs"] == []
        shown = (await c.get(url)).text
        assert 'id="latest-carried"' not in shown and 'id="symptoms-standing"' not in shown
        # Some ticked: those.
        r = await c.post(
            f"{url}/checkins", data={"csrf": csrf, "spo2": "97", "symptoms": ["dry_cough"]}
        )
        assert r.status_code == 303
        latest = await _latest(client, world, patient)
        assert latest["symptoms"] == ["dry_cough"] and latest["symptoms_recorded"] is True


async def test_the_patients_link_form_tells_not_asked_from_none(client, world):
    patient = await _with_cyanosis(client, world)
    link = patient["checkin_link"]
    page = (await client.get(link)).text
    assert re.search(
        r'<label><input type="checkbox" id="no_symptoms" name="no_symptoms" value="1"> '
        r"Không có triệu chứng nào</label>",
        page,
    )
    csrf = _csrf_of(page)
    # Nothing ticked: the earlier symptoms still stand, and the page says so.
    r = await client.post(link, data={"csrf": csrf, "spo2": "96"})
    assert r.status_code == 200 and 'id="sent"' in r.text
    assert 'id="carried"' in r.text
    latest = await _latest(client, world, patient)
    assert latest["symptoms_carried"] == ["cyanosis", "fever"]
    # Both chosen: refused next to the field, the answers kept.
    r = await client.post(
        link, data={"csrf": csrf, "spo2": "96", "no_symptoms": "1", "symptoms": ["fever"]}
    )
    assert r.status_code == 422
    assert re.search(r'id="symptoms-error">[^<]*Không có triệu chứng nào', r.text)
    assert 'value="fever" checked' in r.text and 'name="no_symptoms" value="1" checked' in r.text
    # "No symptoms": none recorded, the cyanosis cleared.
    r = await client.post(link, data={"csrf": csrf, "spo2": "97", "no_symptoms": "1"})
    assert r.status_code == 200 and 'id="sent"' in r.text and 'id="carried"' not in r.text
    latest = await _latest(client, world, patient)
    assert latest["symptoms"] == [] and latest["symptoms_recorded"] is True
    assert latest["warning_signs"] == []
    # Some ticked: those.
    r = await client.post(link, data={"csrf": csrf, "spo2": "97", "symptoms": ["fatigue"]})
    assert r.status_code == 200
    latest = await _latest(client, world, patient)
    assert latest["symptoms"] == ["fatigue"] and latest["symptoms_recorded"] is True


def _checkin_rows(html: str) -> dict[int, str]:
    """The check-in table's rows: id -> the symptoms cell's text (tags dropped)."""
    rows = re.findall(r'<tr data-checkin="(\d+)"[^>]*>(.*?)</tr>', html, re.DOTALL)
    out = {}
    for checkin_id, row in rows:
        cells = re.findall(r"<td>(.*?)</td>", row, re.DOTALL)
        out[int(checkin_id)] = " ".join(re.sub(r"<[^>]+>", " ", cells[6]).split())
    return out


async def test_the_check_in_table_marks_symptoms_carried_from_an_earlier_check_in(
    client, world, signed_in
):
    patient = await _with_cyanosis(client, world)
    r = await client.post(
        f"{API}/patients/{patient['id']}/checkins", json={"spo2": 96}, headers=world.auth("doctor")
    )
    assert r.status_code == 201, r.text
    carried = r.json()["id"]
    url = f"/care/patients/{patient['id']}"
    async with signed_in("doctor") as c:
        rows = _checkin_rows((await c.get(url)).text)
        # Reported at the earlier check-in: as they were ticked, unmarked.
        assert "Tím tái, Sốt" in rows.values()
        # Carried: each marked as from an earlier check-in, the row saying none was asked.
        assert rows[carried] == (
            "Tím tái (lần trước) , Sốt (lần trước) "
            "Lần này chưa hỏi triệu chứng: các triệu chứng trên ghi từ lần đo trước"
        )
        c.cookies.set("lang", "en")
        rows = _checkin_rows((await c.get(url)).text)
    assert "(earlier)" in rows[carried]
    assert sum("(earlier)" in text for text in rows.values()) == 1
