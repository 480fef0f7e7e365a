"""A volunteer offer's number is the volunteer's only once proved: whoever signs up first
with someone else's number holds nothing against its owner. The owner's own sign-up is
kept, the code texted to the number confirms it and refuses the stranger's, and a number
has one approved offer."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hotline.channels.models import Message
from hotline.staffing.models import Volunteer, VolunteerStatus
from tests.channels.helpers import SMS

pytestmark = pytest.mark.anyio
NUMBER = "0912000804"


async def _sms_channel(client: Any, world: Any) -> None:
    r = await client.post(
        "/api/v1/channels",
        json={"kind": "sms", "name": "SMS 1022", "settings": SMS},
        headers=world.auth("admin"),
    )
    assert r.status_code == 201, r.text


async def _offers(client: Any, world: Any) -> dict[str, dict[str, Any]]:
    r = await client.get(
        "/api/v1/volunteers", params={"phone": NUMBER}, headers=world.auth("supervisor")
    )
    assert r.status_code == 200, r.text
    return {v["full_name"]: v for v in r.json()["items"]}


async def _code_for(app: Any, name: str) -> str:
    """The code texted to the number for the offer in `name` (what its holder reads: the
    text itself names nobody, so the offer is found by the outbox key)."""
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        offer = await session.scalar(select(Volunteer.id).where(Volunteer.full_name == name))
        found = (
            await session.scalars(
                select(Message.text).where(
                    Message.source == "volunteer_code",
                    Message.idempotency_key == f"volunteer_code:{offer}",
                )
            )
        ).all()
    assert len(found) == 1, found
    code = re.search(r"\b(\d{6})\b", found[0])
    assert code is not None
    return code[1]


async def test_a_stranger_signing_up_first_with_a_number_does_not_hold_it(
    app, client, world
) -> None:
    await _sms_channel(client, world)
    stranger = {"full_name": "Kẻ Mạo Danh", "phone": NUMBER}
    owner = {"full_name": "Lê Thị Hoa", "phone": "+84 912 000 804"}
    first = await client.post("/api/v1/public/volunteers", json=stranger)
    second = await client.post("/api/v1/public/volunteers", json=owner)
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()  # the answer says nothing of the number
    offers = await _offers(client, world)
    # The owner's offer is kept as well as the stranger's; neither is confirmed.
    assert set(offers) == {"Kẻ Mạo Danh", "Lê Thị Hoa"}
    assert {v["phone_confirmed"] for v in offers.values()} == {None}

    # A wrong code is refused naming the field, and confirms nothing.
    r = await client.post(
        "/api/v1/public/volunteers/confirm", json={"phone": NUMBER, "code": "000000"}
    )
    if r.status_code == 200:  # one chance in a million the stranger's code is 000000
        pytest.skip("the code drawn was 000000")
    assert r.status_code == 422 and r.json()["field"] == "code", r.text
    assert r.headers["content-type"].startswith("application/problem+json")

    # The owner reads the code texted for their offer and types it back.
    r = await client.post(
        "/api/v1/public/volunteers/confirm",
        json={"phone": NUMBER, "code": await _code_for(app, "Lê Thị Hoa")},
    )
    assert r.status_code == 200, r.text
    offers = await _offers(client, world)
    assert offers["Lê Thị Hoa"]["phone_confirmed"] == "code"
    assert offers["Lê Thị Hoa"]["status"] == "pending"
    assert offers["Kẻ Mạo Danh"]["status"] == "rejected"
    # The stranger's code no longer confirms anything.
    r = await client.post(
        "/api/v1/public/volunteers/confirm",
        json={"phone": NUMBER, "code": await _code_for(app, "Kẻ Mạo Danh")},
    )
    assert r.status_code == 422 and r.json()["field"] == "code", r.text

    # The supervisor approves the owner's offer: the number's one approved offer.
    sup = world.auth("supervisor")
    r = await client.post(f"/api/v1/volunteers/{offers['Lê Thị Hoa']['id']}/approve", headers=sup)
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    assert r.json()["phone_confirmed"] == "code"
    # Another sign-up with the number later waits, and cannot be approved beside it.
    await client.post("/api/v1/public/volunteers", json={**stranger, "full_name": "Ai Khác"})
    later = (await _offers(client, world))["Ai Khác"]
    r = await client.post(f"/api/v1/volunteers/{later['id']}/approve", headers=sup)
    assert r.status_code == 409 and r.json()["field"] == "volunteer_id", r.text


async def test_an_unconfirmed_offer_is_not_approved_beside_a_confirmed_one(
    app, client, world
) -> None:
    await _sms_channel(client, world)
    await client.post("/api/v1/public/volunteers", json={"full_name": "Người Lạ", "phone": NUMBER})
    await client.post("/api/v1/public/volunteers", json={"full_name": "Chủ Số", "phone": NUMBER})
    offers = await _offers(client, world)
    # Confirmed by its holder, then a second unconfirmed one arrives.
    r = await client.post(
        "/api/v1/public/volunteers/confirm",
        json={"phone": NUMBER, "code": await _code_for(app, "Chủ Số")},
    )
    assert r.status_code == 200, r.text
    await client.post(
        "/api/v1/public/volunteers", json={"full_name": "Người Lạ Hai", "phone": NUMBER}
    )
    offers = await _offers(client, world)
    sup = world.auth("supervisor")
    r = await client.post(f"/api/v1/volunteers/{offers['Người Lạ Hai']['id']}/approve", headers=sup)
    assert r.status_code == 409 and r.json()["field"] == "volunteer_id", r.text
    # Without an SMS channel a supervisor who phoned the number approves: recorded so.
    r = await client.post(f"/api/v1/volunteers/{offers['Chủ Số']['id']}/approve", headers=sup)
    assert r.status_code == 200 and r.json()["phone_confirmed"] == "code", r.text


async def test_a_supervisors_approval_is_recorded_as_the_numbers_confirmation(
    client, world
) -> None:
    """No SMS channel: no code goes out; the supervisor reaches the volunteer by phone."""
    await client.post(
        "/api/v1/public/volunteers", json={"full_name": "Trần Văn An", "phone": NUMBER}
    )
    offer = (await _offers(client, world))["Trần Văn An"]
    assert offer["phone_confirmed"] is None
    r = await client.post(
        f"/api/v1/volunteers/{offer['id']}/approve", headers=world.auth("supervisor")
    )
    assert r.status_code == 200 and r.json()["phone_confirmed"] == "supervisor", r.text


async def test_the_database_holds_one_approved_offer_per_number(app) -> None:
    async with app.state.hotline.unit_of_work() as session:
        for name in ("Một", "Hai"):
            session.add(
                Volunteer(
                    full_name=name, phone="+84912000806", status=VolunteerStatus.PENDING, skills={}
                )
            )
        await session.flush()  # two waiting offers of one number: allowed
        for name in ("Ba", "Bốn"):
            session.add(
                Volunteer(
                    full_name=name, phone="+84912000806", status=VolunteerStatus.APPROVED, skills={}
                )
            )
        with pytest.raises(IntegrityError):
            await session.flush()


async def test_the_code_typed_in_full_width_digits_confirms_as_the_number_does(
    app, client, world
) -> None:
    """A phone keyboard in a CJK or full-width mode types ０-９: the sign-up takes the number
    so typed, and the code is read the same way rather than spent as a wrong try."""
    await _sms_channel(client, world)
    wide = str.maketrans("0123456789", "０１２３４５６７８９")
    r = await client.post(
        "/api/v1/public/volunteers",
        json={"full_name": "Lê Thị Hoa", "phone": NUMBER.translate(wide)},
    )
    assert r.status_code == 202, r.text
    code = await _code_for(app, "Lê Thị Hoa")
    r = await client.post(
        "/api/v1/public/volunteers/confirm",
        json={"phone": NUMBER.translate(wide), "code": code.translate(wide)},
    )
    assert r.status_code == 200, r.text
    assert (await _offers(client, world))["Lê Thị Hoa"]["phone_confirmed"] == "code"
    # Digits of another script are not a code: refused as one, not counted as a wrong try.
    r = await client.post(
        "/api/v1/public/volunteers/confirm", json={"phone": NUMBER, "code": "١٢٣٤٥٦"}
    )
    assert r.status_code == 422 and r.json()["detail"] == "Mã xác nhận gồm 6 chữ số", r.text
