"""Texts the hotline sends its own people (reserve volunteers called in by SMS when the line
enters surge mode) stay out of the citizens' inbox; what a number sends back is a citizen's
text, in the inbox and triaged (anyone can sign a number up as a volunteer)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.channels.helpers import SMS, signature_headers
from tests.channels.test_inbox_pages import sign_in
from tests.channels.zalo_helpers import run_jobs
from tests.staffing.test_surge_actions import _enter_surge, _volunteer

pytestmark = pytest.mark.anyio


async def _sms_channel(client: Any, world: Any) -> int:
    r = await client.post(
        "/api/v1/channels",
        json={"kind": "sms", "name": "SMS 1022", "settings": SMS},
        headers=world.auth("admin"),
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def _texted(client: Any, channel: int, sender: str, text: str, event_id: str) -> None:
    body = json.dumps(
        {"id": event_id, "from": sender, "to": "1022", "text": text, "timestamp": int(time.time())},
        ensure_ascii=False,
    ).encode()
    r = await client.post(
        f"/hooks/{channel}", content=body, headers=signature_headers("sms", SMS, body)
    )
    assert r.status_code == 200, r.text


async def _listed(client: Any, world: Any, **params: str) -> list[dict[str, Any]]:
    r = await client.get("/api/v1/conversations", params=params, headers=world.auth("operator"))
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def test_a_surge_text_stays_out_of_the_inbox_and_the_answer_is_a_citizen_text(
    app, client, world
) -> None:
    channel = await _sms_channel(client, world)
    await _volunteer(client, world, "Nguyễn Văn An", "0912000401", reserve=True)

    await _enter_surge(app)

    # The notice is queued, in a staff conversation: the citizen inbox does not show it.
    assert [c["external_user_id"] for c in await _listed(client, world)] == []
    [staff] = await _listed(client, world, audience="staff")
    assert staff["external_user_id"] == "+84912000401" and staff["audience"] == "staff"
    await sign_in(client)
    rows = await client.get("/console/conversations")
    assert rows.status_code == 200 and f'data-conversation="{staff["id"]}"' not in rows.text
    rows = await client.get("/console/conversations", params={"audience": "staff"})
    assert f'data-conversation="{staff["id"]}"' in rows.text

    # The volunteer answers: a staff text is a notice out, so the answer (whoever holds the
    # number) lands in the citizen inbox and triage reads it; the staff conversation closes.
    await _texted(client, channel, "0912000401", "Tôi vào ca ngay, tôi bị sốt nhẹ thôi", "v-1")
    await run_jobs(app)
    [answer] = await _listed(client, world)
    assert answer["external_user_id"] == "+84912000401" and answer["id"] != staff["id"]
    r = await client.get(f"/api/v1/conversations/{staff['id']}", headers=world.auth("operator"))
    assert r.json()["status"] == "closed"
    # The sign-up's confirmation code, then the surge notice: both texts out.
    assert [m["source"] for m in r.json()["messages"]] == ["volunteer_code", "staff_alert"]

    # A citizen on the same channel still lands in the inbox.
    await _texted(client, channel, "0987000111", "Cống trước nhà tôi bị tắc", "c-1")
    listed = [c["external_user_id"] for c in await _listed(client, world)]
    assert sorted(listed) == ["+84912000401", "+84987000111"]
    r = await client.get(
        "/api/v1/conversations", params={"audience": "nobody"}, headers=world.auth("operator")
    )
    assert r.status_code == 422 and "audience" in r.text


async def test_a_volunteer_writing_as_a_citizen_is_not_texted_into_that_conversation(
    app, client, world
) -> None:
    channel = await _sms_channel(client, world)
    reserve = await _volunteer(client, world, "Lê Thị Hoa", "0912000402", reserve=True)
    await _texted(client, channel, "0912000402", "Đèn đường ngõ 12 bị hỏng", "c-2")
    [citizen] = await _listed(client, world)

    await _enter_surge(app)

    notices = (await client.get("/api/v1/staffing/notices", headers=world.auth("admin"))).json()[
        "items"
    ]
    [notice] = [n for n in notices if n["volunteer_id"] == reserve]
    assert notice["delivery"] == "recorded" and notice["message_id"] is None
    r = await client.get(f"/api/v1/conversations/{citizen['id']}", headers=world.auth("operator"))
    assert [m["direction"] for m in r.json()["messages"]] == ["in"]
    # Only the sign-up's code went out to the number, and its conversation is closed.
    [code] = await _listed(client, world, audience="staff")
    assert code["status"] == "closed"


async def test_an_anonymous_repeated_sign_up_cannot_hide_a_numbers_texts_from_the_inbox(
    app, client, world
) -> None:
    channel = await _sms_channel(client, world)
    body = {"full_name": "Kẻ Giả Mạo", "phone": "0912000777"}
    for _ in range(2):
        r = await client.post("/api/v1/public/volunteers", json=body)
        assert r.status_code == 202, r.text
    # Each sign-up texts the number its code (outbound notices in a staff conversation).
    [staff] = await _listed(client, world, audience="staff")
    assert staff["external_user_id"] == "+84912000777"

    await _texted(client, channel, "0912000777", "Cấp cứu! Mẹ tôi khó thở, SpO2 85", "e-1")
    await run_jobs(app)

    # The text lands in the citizen inbox, in a new citizen conversation, and is triaged.
    [citizen] = await _listed(client, world)
    assert citizen["external_user_id"] == "+84912000777" and citizen["audience"] == "citizen"
    assert citizen["id"] != staff["id"]
    r = await client.get(f"/api/v1/conversations/{citizen['id']}", headers=world.auth("operator"))
    assert [(m["direction"], m["text"]) for m in r.json()["messages"]] == [
        ("in", "Cấp cứu! Mẹ tôi khó thở, SpO2 85")
    ]
    # The staff notice's conversation is closed: nothing the number sends joins it.
    r = await client.get(f"/api/v1/conversations/{staff['id']}", headers=world.auth("operator"))
    assert r.json()["status"] == "closed"
    assert [m["direction"] for m in r.json()["messages"]] == ["out", "out"]
    await _texted(client, channel, "0912000777", "Xin gọi lại giúp tôi", "e-2")
    [again] = await _listed(client, world)
    assert again["id"] == citizen["id"]


async def test_a_known_citizen_texting_while_a_staff_notice_is_open_lands_in_the_inbox(
    app, client, world
) -> None:
    """On PostgreSQL a citizen this process stored lately takes the one-statement path: it
    must not write into the staff conversation open on the same number."""
    channel = await _sms_channel(client, world)
    await _volunteer(client, world, "Phan Văn Tâm", "0912000403", reserve=True)
    await _texted(client, channel, "0912000403", "Nước ngập trước ngõ 5", "k-1")
    [first] = await _listed(client, world)
    r = await client.post(
        f"/api/v1/conversations/{first['id']}/close", headers=world.auth("operator")
    )
    assert r.status_code == 200, r.text

    await _enter_surge(app)
    [staff] = [c for c in await _listed(client, world, audience="staff") if c["status"] == "open"]
    assert staff["external_user_id"] == "+84912000403"

    await _texted(client, channel, "0912000403", "Tôi khó thở, SpO2 90", "k-2")
    [answer] = [c for c in await _listed(client, world) if c["status"] == "open"]
    assert answer["id"] not in (first["id"], staff["id"])
    r = await client.get(f"/api/v1/conversations/{answer['id']}", headers=world.auth("operator"))
    assert [m["text"] for m in r.json()["messages"]] == ["Tôi khó thở, SpO2 90"]
    r = await client.get(f"/api/v1/conversations/{staff['id']}", headers=world.auth("operator"))
    assert [m["direction"] for m in r.json()["messages"]] == ["out"]
