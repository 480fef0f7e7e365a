"""The notes, files and answers written on an urgent case home care opened follow its
medical text: a note, a reason, an answer or a file by someone in charge may say how the
patient is. One who reads only the neutral line reads them nowhere (the case, its
timeline, its page, the live stream) and downloads no file (404); their own notes they
read. Those in charge read them, each read logged; the live stream carries none of them
to anyone, as it carries no edit's values."""

from __future__ import annotations

from typing import Any

import pytest

from tests.attachments.test_attachments import make_png
from tests.care.helpers import officer_115
from tests.care.test_urgent_case_privacy import _reads, _urgent_case
from tests.conftest import live_events

pytestmark = pytest.mark.anyio

NOTE = "Người nhà báo môi tím, SpO2 còn 86%"
FILE = "xquang-phoi-SpO2-86.png"
RETURNED = "Người bệnh SpO2 84%, cần xe có oxy"
ANSWER = "Đã đưa người bệnh SpO2 85% vào viện"
OWN = "Đã gọi lại cho người nhà, máy bận"
SECRETS = (NOTE, FILE, RETURNED, ANSWER, "xquang")


def _hidden(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, secret


async def _with_note_and_file(client: Any, world: Any) -> tuple[str, int]:
    code, _ = await _urgent_case(client, world)
    supervisor = world.auth("supervisor")
    r = await client.post(f"/api/v1/cases/{code}/notes", json={"text": NOTE}, headers=supervisor)
    assert r.status_code == 201, r.text
    r = await client.post(
        f"/api/v1/cases/{code}/attachments",
        files={"file": (FILE, make_png(), "image/png")},
        headers=supervisor,
    )
    assert r.status_code == 201, r.text
    return code, r.json()["id"]


async def _logged(app: Any, code: str, who: str) -> list[str]:
    return [p for user, p in await _reads(app, code) if user == who]


async def test_the_neutral_reader_gets_no_note_or_file_through_the_api(app, client, world):
    code, file_id = await _with_note_and_file(client, world)
    operator = world.auth("operator")
    url = f"/api/v1/cases/{code}"
    own = await client.post(f"{url}/notes", json={"text": OWN}, headers=operator)
    assert own.status_code == 201, own.text
    detail = await client.get(url, headers=operator)
    assert detail.status_code == 200 and detail.json()["attachments"] == []
    _hidden(detail.text)
    r = await client.get(f"{url}/attachments/{file_id}", headers=operator)
    assert r.status_code == 404, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    events = await client.get(f"{url}/events", headers=operator)
    assert events.status_code == 200
    _hidden(events.text)
    kinds = [e["kind"] for e in events.json()]
    assert "note" in kinds and "attachment_added" in kinds
    # Their own note they read as they wrote it.
    assert OWN in events.text
    # Nor do they add a file to a case they cannot read: they take it first.
    r = await client.post(
        f"{url}/attachments", files={"file": ("a.png", make_png(), "image/png")}, headers=operator
    )
    assert r.status_code == 403, r.text
    # The reporter's name and number are read (`case_detail`), nothing medical.
    assert await _logged(app, code, "operator") == ["case_detail"]


async def test_those_in_charge_read_notes_and_files_logged(app, client, world):
    code, file_id = await _with_note_and_file(client, world)
    url = f"/api/v1/cases/{code}"
    admin = world.auth("admin")
    events = await client.get(f"{url}/events", headers=admin)
    assert NOTE in events.text and FILE in events.text
    assert "care_case_timeline" in await _logged(app, code, "admin")
    r = await client.get(f"{url}/attachments/{file_id}", headers=admin)
    assert r.status_code == 200 and r.content == make_png()
    assert "attachment" in await _logged(app, code, "admin")
    unit = await officer_115(app, client)
    events = await client.get(f"{url}/events", headers=unit)
    assert NOTE in events.text
    assert "care_case_timeline" in await _logged(app, code, "dieuphoi115")


async def test_the_neutral_reader_gets_no_note_or_file_on_the_pages(app, client, world, signed_in):
    code, file_id = await _with_note_and_file(client, world)
    async with signed_in("operator") as c:
        page = await c.get(f"/cases/{code}")
        assert page.status_code == 200
        _hidden(page.text)
        assert f"/attachments/{file_id}" not in page.text
        fragment = await c.get(f"/cases/{code}/timeline")
        assert fragment.status_code == 200
        _hidden(fragment.text)
    async with signed_in("supervisor") as c:
        fragment = await c.get(f"/cases/{code}/timeline")
        assert NOTE in fragment.text
    # The live refresh's timeline is a read of the notes like the page's.
    assert "care_case_timeline" in await _logged(app, code, "supervisor")


async def test_a_units_return_reason_and_answer_stay_with_those_in_charge(app, client, world):
    code, _ = await _urgent_case(client, world)
    unit = await officer_115(app, client)
    url = f"/api/v1/cases/{code}"
    r = await client.post(f"{url}/return", json={"reason": RETURNED}, headers=unit)
    assert r.status_code == 200, r.text
    operator = world.auth("operator")
    for path in ("", "/events"):
        r = await client.get(f"{url}{path}", headers=operator)
        assert r.status_code == 200
        _hidden(r.text)
    r = await client.get(url, headers=world.auth("supervisor"))
    assert RETURNED in r.text
    # Forwarded again, the unit answers: the answer too is the case's medical content.
    r = await client.post(
        f"{url}/forward", json={"unit_id": r.json()["assignments"][0]["unit_id"]},
        headers=world.auth("supervisor"),
    )  # fmt: skip
    assert r.status_code == 201, r.text
    assert (await client.post(f"{url}/accept", headers=unit)).status_code == 200
    r = await client.post(f"{url}/resolve", json={"answer": ANSWER}, headers=unit)
    assert r.status_code == 200, r.text
    for path in ("", "/events"):
        r = await client.get(f"{url}{path}", headers=operator)
        _hidden(r.text)
    listed = await client.get("/api/v1/cases", headers=operator)
    _hidden(listed.text)
    r = await client.get(url, headers=world.auth("supervisor"))
    assert ANSWER in r.text


async def test_the_live_stream_carries_no_answer_or_file_name_of_an_urgent_case(app, client, world):
    from hotline.auth.service import actor_for_token
    from hotline.web.sse import as_seen_by

    code, _ = await _urgent_case(client, world)
    async with live_events(app) as queue:
        r = await client.post(
            f"/api/v1/cases/{code}/notes",
            json={"text": ANSWER, "visibility": "reply"},
            headers=world.auth("supervisor"),
        )
        assert r.status_code == 201, r.text
        r = await client.post(
            f"/api/v1/cases/{code}/attachments",
            files={"file": (FILE, make_png(), "image/png")},
            headers=world.auth("supervisor"),
        )
        assert r.status_code == 201, r.text
        await app.state.hotline.feed.sync()
        found = []
        while not queue.empty():
            event = queue.get_nowait()
            if event.case_code == code:
                found.append(event)
    assert {e.kind for e in found} >= {"case.reply", "case.attachment_added"}
    async with app.state.hotline.unit_of_work() as session:
        for who in ("supervisor", "operator"):
            actor = await actor_for_token(session, token=world.tokens[who])
            for event in found:
                _hidden(str(as_seen_by(actor, event)))


async def test_duplicate_clusters_are_read_only_by_those_in_charge(app, client, world):
    """Clusters show cases' text: only those who merge duplicates read them (supervisors,
    administrators), who all read an urgent case in full (each read logged:
    test_urgent_case_list_reads); to anyone else the clusters are refused."""
    from hotline.auth.models import Role
    from hotline.auth.permissions import Permission, role_allows

    for role in Role:
        if role_allows(role, Permission.MERGE_DUPLICATES):
            assert role_allows(role, Permission.SEE_ALL_PATIENTS), role
    code, _ = await _urgent_case(client, world)
    for who in ("operator", "doctor", "officer"):
        r = await client.get("/api/v1/duplicates/clusters", headers=world.auth(who))
        assert r.status_code == 403, (who, r.text)
        assert code not in r.text
