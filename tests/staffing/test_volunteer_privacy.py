"""Texting a volunteer (a sign-up's confirmation code, a surge alert) goes out in a staff
conversation and makes no citizen contact: an operator looking the number up finds no one,
a citizen's card holding the number is left as it was, and the repeated sign-up is answered
exactly as a new one."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from hotline.contacts.models import Contact, ContactPhone
from tests.channels.helpers import SMS
from tests.staffing.test_surge_actions import _enter_surge, _volunteer

pytestmark = pytest.mark.anyio


async def _sms_channel(client: Any, world: Any) -> None:
    r = await client.post(
        "/api/v1/channels",
        json={"kind": "sms", "name": "SMS 1022", "settings": SMS},
        headers=world.auth("admin"),
    )
    assert r.status_code == 201, r.text


async def _contacts(app: Any) -> int:
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        return int(await session.scalar(select(func.count()).select_from(Contact)) or 0)


async def test_a_sign_ups_code_is_texted_without_making_a_citizen_contact(
    app, client, world
) -> None:
    await _sms_channel(client, world)
    body = {"full_name": "Lê Thị Hoa", "phone": "0912000904"}
    first = await client.post("/api/v1/public/volunteers", json=body)
    before = await _contacts(app)
    second = await client.post(
        "/api/v1/public/volunteers", json={"full_name": "Người Khác", "phone": "+84912000904"}
    )
    fresh = await client.post(
        "/api/v1/public/volunteers", json={"full_name": "Ai Đó", "phone": "0912000905"}
    )
    assert first.status_code == second.status_code == fresh.status_code == 202
    assert first.json() == second.json() == fresh.json()
    # Each number was texted its code, in a staff conversation...
    r = await client.get(
        "/api/v1/conversations", params={"audience": "staff"}, headers=world.auth("operator")
    )
    assert sorted(c["external_user_id"] for c in r.json()["items"]) == [
        "+84912000904",
        "+84912000905",
    ]
    # ...and no citizen contact holds the number or the volunteer's name.
    r = await client.get(
        "/api/v1/contacts/lookup", params={"phone": "0912000904"}, headers=world.auth("operator")
    )
    assert r.status_code == 404, r.text
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        named = await session.scalar(select(Contact.id).where(Contact.name == "Lê Thị Hoa"))
        assert named is None
        phone = await session.scalar(
            select(ContactPhone.e164).where(ContactPhone.e164 == "+84912000904")
        )
        assert phone is None
    # Texting the next volunteer reuses what the first made: no contact per text.
    await client.post(
        "/api/v1/public/volunteers", json={"full_name": "Ai Đó", "phone": "0912000905"}
    )
    assert await _contacts(app) <= before + 1


async def test_a_surge_alert_leaves_a_citizens_card_with_the_number_as_it_was(
    app, client, world
) -> None:
    await _sms_channel(client, world)
    # The number is a citizen's, known without a name.
    r = await client.post(
        "/api/v1/contacts",
        json={"name": "", "phones": ["0912000906"]},
        headers=world.auth("operator"),
    )
    assert r.status_code == 201, r.text
    citizen = r.json()["id"]
    await _volunteer(client, world, "Trần Văn Nam", "0912000906", reserve=True)
    await _volunteer(client, world, "Đỗ Thị Lan", "0912000907", reserve=True)

    await _enter_surge(app)

    r = await client.get(
        "/api/v1/conversations", params={"audience": "staff"}, headers=world.auth("operator")
    )
    assert sorted(c["external_user_id"] for c in r.json()["items"]) == [
        "+84912000906",
        "+84912000907",
    ]
    assert all(c["contact_id"] != citizen for c in r.json()["items"])
    card = (await client.get(f"/api/v1/contacts/{citizen}", headers=world.auth("operator"))).json()
    assert card["name"] == "" and card["phones"] == ["+84912000906"]
    r = await client.get(
        "/api/v1/contacts/lookup", params={"phone": "0912000907"}, headers=world.auth("operator")
    )
    assert r.status_code == 404, r.text
