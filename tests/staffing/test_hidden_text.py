"""Free text typed into staffing — a surge switch's reason, an off-shift leave's reason, a
volunteer's note — holds no control or invisible character (a bidi override could make
it read as something else); a public sign-up's refusal does not repeat a stranger's
text; a retired shift is said to be retired."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.conftest import site_today
from tests.staffing.test_pages import _form, csrf_of
from tests.staffing.test_roster import _shift
from tests.staffing.test_roster_rules import _me

pytestmark = pytest.mark.anyio
RLO = "\u202e"


async def test_reasons_with_hidden_characters_are_refused(client, world) -> None:
    sup = world.auth("supervisor")
    r = await client.put("/api/v1/surge", json={"active": True, "reason": f"x{RLO}y"}, headers=sup)
    assert r.status_code == 422 and r.json()["field"] == "reason", r.text
    assert "U+202E" in r.json()["detail"]
    operator = await _me(client, world, "operator")
    r = await client.put(
        "/api/v1/roster/off-shift",
        json={"user_id": operator, "minutes": 60, "reason": "Thiếu\u200bngười"},
        headers=sup,
    )
    assert r.status_code == 422 and r.json()["field"] == "reason", r.text
    assert "U+200B" in r.json()["detail"]


async def test_a_volunteer_note_with_hidden_characters_is_refused(client, world) -> None:
    body = {"full_name": "Lê Thị Hoa", "phone": "0912000704", "note": f"Tối {RLO}yảb ứht"}
    r = await client.post("/api/v1/public/volunteers", json=body)
    assert r.status_code == 422 and r.json()["field"] == "note", r.text
    # Line breaks are a note's own.
    r = await client.post("/api/v1/public/volunteers", json={**body, "note": "Tối T7\nSáng CN"})
    assert r.status_code == 202, r.text

    csrf = csrf_of((await client.get("/tinh-nguyen")).text)
    r = await client.post("/tinh-nguyen", data=_form(csrf, note=f"Tối {RLO}yảb"))
    assert r.status_code == 422
    assert re.search(r'id="note-error"[^>]*>[^<]*U\+202E', r.text), r.text


async def test_a_refused_language_is_not_repeated_back_unless_it_is_a_short_word(
    client, world
) -> None:
    long = "x" * 5000
    body = {"full_name": "Lê Thị Hoa", "phone": "0912000705"}
    for odd in (long, f"en{RLO}"):
        r = await client.post(
            "/api/v1/public/volunteers", json={**body, "skills": {"languages": ["vi", odd]}}
        )
        assert r.status_code == 422 and r.json()["field"] == "skills.languages", r.text
        assert odd not in r.json()["detail"] and RLO not in r.json()["detail"]
        assert len(r.json()["detail"]) < 300
    csrf = csrf_of((await client.get("/tinh-nguyen")).text)
    r = await client.post("/tinh-nguyen", data=_form(csrf, languages=long))
    # The field keeps what was typed, for correcting it; the message does not repeat it.
    error = re.search(r'id="languages-error"[^>]*>([^<]*)<', r.text)
    assert r.status_code == 422 and error and "xxx" not in error.group(1), r.text[:500]


async def test_placing_someone_on_a_retired_shift_says_it_is_retired(client, world) -> None:
    sup = world.auth("supervisor")
    evening = await _shift(client, world, "chieu")
    r = await client.put(
        "/api/v1/shifts",
        json={
            **{k: evening[k] for k in ("code", "name", "starts_at", "hours", "operators")},
            "active": False,
        },
        headers=sup,
    )
    assert r.status_code == 200, r.text
    operator = await _me(client, world, "operator")
    r = await client.post(
        "/api/v1/roster",
        json={
            "day": str(site_today() + timedelta(days=1)),
            "shift_id": evening["id"],
            "user_id": operator,
        },
        headers=sup,
    )
    assert r.status_code == 409 and r.json()["field"] == "shift_id", r.text
    assert "ngừng" in r.json()["detail"]
