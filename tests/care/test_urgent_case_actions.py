"""The urgent case a warning sign opens: only those in charge of it (the operator holding it,
the unit it is forwarded to, supervisors, administrators) act on it beyond taking it. Any
other operator may take it (then reads it) and add a note, and nothing else: they cannot
choose who reads it (forwarding), change its triage (priority, category, urgency, ward) or
end it without having read it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.care.helpers import officer_115
from tests.care.test_urgent_case_privacy import _urgent_case
from tests.conftest import new_case_body

pytestmark = pytest.mark.anyio


def _refused(r: Any, field: str | None = None) -> None:
    assert r.status_code == 403, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    if field is not None:
        assert r.json()["field"] == field


async def test_an_operator_not_holding_it_cannot_forward_it_to_another_unit(client, world):
    code, _ = await _urgent_case(client, world)
    url = f"/api/v1/cases/{code}/forward"
    body = {"unit_id": world.units["ward_a"]}
    _refused(await client.post(url, json=body, headers=world.auth("operator")))
    # The ward's officer got nothing to read.
    r = await client.get(f"/api/v1/cases/{code}", headers=world.auth("officer"))
    assert r.status_code == 404, r.text
    r = await client.post(url, json=body, headers=world.auth("supervisor"))
    assert r.status_code == 201, r.text


async def test_an_operator_not_holding_it_cannot_change_its_triage(client, world):
    code, _ = await _urgent_case(client, world)
    url = f"/api/v1/cases/{code}"
    operator = world.auth("operator")
    before = (await client.get(url, headers=world.auth("supervisor"))).json()
    for field, value in (
        ("priority", "high"),
        ("category", "ho_tro_kho_khan"),
        ("urgent", False),
        ("ward_code", "00008"),
    ):
        _refused(await client.patch(url, json={field: value}, headers=operator), field)
    after = (await client.get(url, headers=world.auth("supervisor"))).json()
    for field in ("priority", "category", "urgent", "ward_code"):
        assert after[field] == before[field], field
    r = await client.patch(url, json={"priority": "high"}, headers=world.auth("supervisor"))
    assert r.status_code == 200, r.text
    assert r.json()["priority"] == "high"


async def test_a_returned_case_is_taken_from_the_neutral_line_before_anything_else(
    app, client, world
):
    code, _ = await _urgent_case(client, world)
    unit = await officer_115(app, client)
    r = await client.post(f"/api/v1/cases/{code}/return", json={"reason": "Hết xe"}, headers=unit)
    assert r.status_code == 200, r.text
    url = f"/api/v1/cases/{code}"
    operator = world.auth("operator")
    detail = (await client.get(url, headers=operator)).json()
    # The case page offers the neutral reader only to take it.
    assert detail["actions"] == ["take"], detail["actions"]
    _refused(
        await client.post(
            f"{url}/forward", json={"unit_id": world.units["ward_a"]}, headers=operator
        )
    )
    _refused(await client.post(f"{url}/resolve", json={"answer": "Đã ổn"}, headers=operator))
    _refused(await client.post(f"{url}/reject", json={"reason": "Nhầm"}, headers=operator))
    other = await client.post("/api/v1/cases", json=new_case_body(), headers=operator)
    assert other.status_code == 201, other.text
    other_code = other.json()["code"]
    _refused(
        await client.post(f"{url}/duplicate", json={"original_code": other_code}, headers=operator)
    )
    # Nor is another report ended as a repeat of a case whose text the operator cannot read.
    _refused(
        await client.post(
            f"/api/v1/cases/{other_code}/duplicate",
            json={"original_code": code},
            headers=operator,
        ),
        "original_code",
    )
    # A note says what the operator did (a call back); it shows nothing of the case.
    note = await client.post(f"{url}/notes", json={"text": "Đã gọi lại, máy bận"}, headers=operator)
    assert note.status_code == 201, note.text
    # Taking it makes them the one in charge: now they read it and act on it.
    taken = await client.post(f"{url}/take", headers=operator)
    assert taken.status_code == 200, taken.text
    assert "SpO2 93%" in taken.json()["description"]
    r = await client.patch(url, json={"priority": "high"}, headers=operator)
    assert r.status_code == 200, r.text
    r = await client.post(
        f"{url}/forward", json={"unit_id": world.units["ward_a"]}, headers=operator
    )
    assert r.status_code == 201, r.text
