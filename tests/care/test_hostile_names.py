"""A followed patient's name with hidden characters is refused (422 naming `name`): a
zero-width space would make a second record of one person, a name of only that passes for a
name, and a bidi override shows the name reversed. Spacing is tidied before the name is
kept."""

from __future__ import annotations

import pytest

from tests.care.helpers import API, doctor_with_profile, patient_body, register

pytestmark = pytest.mark.anyio

SHARED = "0912345678"


async def _refused(r) -> str:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == "name", r.text
    return r.json()["detail"]


async def test_hidden_characters_in_a_name_are_refused(client, world):
    await doctor_with_profile(client, world)
    binh = await register(client, world, name="Trần Thị Bình", phone=SHARED)
    auth = world.auth("supervisor")
    for name, shown in (
        ("Trần Thị B\u200bình", "U+200B"),
        ("\u200b", "U+200B"),
        ("Trần Thị \u202eBình", "U+202E"),
        ("Nguyễn\u0007 Văn A", "U+0007"),
    ):
        body = patient_body(name=name, phone=SHARED)
        r = await client.post(f"{API}/patients", json=body, headers=auth)
        assert shown in await _refused(r), name
    # One record of her, the number's household unchanged.
    listed = (await client.get(f"{API}/patients", headers=auth)).json()
    assert [p["id"] for p in listed] == [binh["id"]]
    # Editing the name is held to the same rule.
    r = await client.patch(
        f"{API}/patients/{binh['id']}", json={"name": "Trần \u202eThị Bình"}, headers=auth
    )
    await _refused(r)


async def test_spacing_is_tidied_before_the_name_is_kept(client, world):
    await doctor_with_profile(client, world)
    await register(client, world, name="Trần Thị Bình", phone=SHARED)
    auth = world.auth("supervisor")
    child = await register(client, world, name="  Trần   Văn\u00a0Bé ", age=6, phone=SHARED)
    assert child["name"] == "Trần Văn Bé"
    # Typed again with other spacing: the same person, still followed once.
    again = await client.post(
        f"{API}/patients", json=patient_body(name="Trần Văn Bé", phone=SHARED), headers=auth
    )
    assert again.status_code == 409 and again.json()["patient_id"] == child["id"], again.text
