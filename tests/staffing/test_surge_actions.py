"""What surge mode does besides the line's timing: supervisors and reserve volunteers are
alerted on entry (notices; an SMS through the outbox when an SMS channel is enabled), and a
chat channel's automatic acknowledgement states the expected wait."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from hotline.channels.models import Conversation, Message
from hotline.db import utcnow
from hotline.events import record_event
from hotline.staffing.alerts import alert_surge
from hotline.staffing.models import SurgeChange
from hotline.staffing.surge import SurgeRules, check_surge
from tests.channels.fake_zalo import FakeZaloServer
from tests.channels.helpers import SMS
from tests.conftest import SITE_TZ
from tests.staffing.test_roster import _queue_event
from tests.staffing.test_roster_rules import _me, _running_shift, volunteer_id

pytestmark = pytest.mark.anyio
RULES = SurgeRules(waiting=10, longest_wait=120, min_minutes=0)


@pytest.fixture
def zalo() -> Iterator[FakeZaloServer]:
    server = FakeZaloServer()
    with server:
        yield server


async def _volunteer(client: Any, world: Any, name: str, phone: str, *, reserve: bool) -> int:
    body = {"full_name": name, "phone": phone, "reserve": reserve}
    r = await client.post("/api/v1/public/volunteers", json=body)
    assert r.status_code == 202, r.text
    vid = await volunteer_id(client, world, phone)
    r = await client.post(f"/api/v1/volunteers/{vid}/approve", headers=world.auth("supervisor"))
    assert r.status_code == 200 and r.json()["reserve"] is reserve
    return vid


async def _on_shift_now(client: Any, world: Any, volunteer_id: int) -> None:
    """Put the volunteer on the default shift running now (site time)."""
    now = datetime.now(SITE_TZ)
    code = "sang" if 6 <= now.hour < 14 else "chieu" if 14 <= now.hour < 22 else "dem"
    day = now.date() - timedelta(days=1) if now.hour < 6 else now.date()
    shifts = (await client.get("/api/v1/shifts", headers=world.auth("supervisor"))).json()
    shift = next(s for s in shifts if s["code"] == code)
    r = await client.post(
        "/api/v1/roster",
        json={"day": str(day), "shift_id": shift["id"], "volunteer_id": volunteer_id},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 201, r.text


async def _enter_surge(app: Any, waiting: int = 12) -> SurgeChange:
    state = app.state.hotline
    async with state.unit_of_work() as session:
        record_event(session, _queue_event(waiting, utcnow() - timedelta(seconds=30)))
    async with state.unit_of_work() as session:
        change = await check_surge(session, rules=RULES, now=utcnow())
        assert change is not None and change.active
        return change


async def test_a_supervisor_marks_a_volunteer_in_reserve(client, world) -> None:
    vid = await _volunteer(client, world, "Trần Thị Mai", "0912000111", reserve=False)
    path = f"/api/v1/volunteers/{vid}/reserve"
    r = await client.put(path, json={"reserve": True}, headers=world.auth("operator"))
    assert r.status_code == 403
    r = await client.put(path, json={"reserve": True}, headers=world.auth("supervisor"))
    assert r.status_code == 200 and r.json()["reserve"] is True
    r = await client.put(path, json={"reserve": "sometimes"}, headers=world.auth("supervisor"))
    assert r.status_code == 422 and "reserve" in r.text
    r = await client.put(
        "/api/v1/volunteers/999999/reserve",
        json={"reserve": True},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 404


async def test_entering_surge_records_notices_for_leads_and_reserve_volunteers(
    app, client, world
) -> None:
    reserve = await _volunteer(client, world, "Nguyễn Văn An", "0912000201", reserve=True)
    working = await _volunteer(client, world, "Lê Thị Hoa", "0912000202", reserve=True)
    await _volunteer(client, world, "Phạm Văn Bình", "0912000203", reserve=False)
    await _on_shift_now(client, world, working)

    change = await _enter_surge(app)

    sup = world.auth("supervisor")
    notices = (await client.get("/api/v1/staffing/notices", headers=sup)).json()["items"]
    me = (await client.get("/api/v1/users/me", headers=sup)).json()["id"]
    admin = (await client.get("/api/v1/users/me", headers=world.auth("admin"))).json()["id"]
    assert {n["user_id"] for n in notices if n["user_id"]} == {me, admin}
    # Only the reserve volunteer who is not on a shift now; no SMS channel: recorded.
    volunteers = [n for n in notices if n["volunteer_id"]]
    assert [(n["volunteer_id"], n["delivery"]) for n in volunteers] == [(reserve, "recorded")]
    assert "12 người đang chờ" in volunteers[0]["text"]
    assert all(n["surge_change_id"] == change.id for n in notices)
    lead = next(n for n in notices if n["user_id"] == me)
    assert "12 người đang chờ" in lead["text"]
    assert lead["text"].endswith("Lý do: nhiều người đang chờ.")
    # An operator sees only their own notices: none.
    assert (await client.get("/api/v1/staffing/notices", headers=world.auth("operator"))).json()[
        "items"
    ] == []
    # The same entry alerted again (a sweep retried) tells nobody twice.
    async with app.state.hotline.unit_of_work() as session:
        again = await session.get(SurgeChange, change.id)
        assert again is not None and await alert_surge(session, change=again) == 0
    assert len((await client.get("/api/v1/staffing/notices", headers=sup)).json()["items"]) == len(
        notices
    )


async def test_reserve_volunteers_are_texted_through_an_enabled_sms_channel(
    app, client, world
) -> None:
    r = await client.post(
        "/api/v1/channels",
        json={"kind": "sms", "name": "SMS 1022", "settings": SMS},
        headers=world.auth("admin"),
    )
    assert r.status_code == 201, r.text
    reserve = await _volunteer(client, world, "Nguyễn Văn An", "0912000301", reserve=True)

    await _enter_surge(app)

    notices = (await client.get("/api/v1/staffing/notices", headers=world.auth("admin"))).json()[
        "items"
    ]
    [texted] = [n for n in notices if n["volunteer_id"] == reserve]
    assert texted["delivery"] == "sms" and texted["message_id"] is not None
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        message = await session.get(Message, texted["message_id"])
        assert message is not None
        conversation = await session.get(Conversation, message.conversation_id)
    assert conversation is not None and conversation.external_user_id == "+84912000301"
    assert message.source == "staff_alert" and message.status.value == "queued"
    assert message.text == texted["text"]


async def test_in_surge_the_chat_acknowledgement_states_the_expected_wait(
    app, client, world, zalo
) -> None:
    from tests.channels.test_inbox_pages import now_ms
    from tests.channels.test_saved_replies import _ack_channel, _open, _outgoing
    from tests.channels.zalo_helpers import deliver, variant

    channel = await _ack_channel(client, world, zalo)
    await deliver(client, channel, variant("user_send_text", timestamp=now_ms()))
    first = (await client.get("/api/v1/conversations", headers=world.auth("operator"))).json()
    conversation = first["items"][0]["id"]
    # 12 callers waiting, no operator on the line, no answered calls yet (300 s each):
    # 13 × 300 s = 65 min, said as 65 minutes.
    await _enter_surge(app)
    surge = (await client.get("/api/v1/surge", headers=world.auth("supervisor"))).json()
    assert surge["active"] and surge["expected_wait_seconds"] == 13 * 300
    code = await _open(client, world, conversation)
    [ack] = await _outgoing(client, world, conversation)
    assert ack["text"].startswith(f"Đã nhận, mã {code} ")
    assert "thời gian chờ dự kiến khoảng 65 phút" in ack["text"]


async def test_outside_surge_the_acknowledgement_says_no_wait(app, client, world, zalo) -> None:
    from tests.channels.test_inbox_pages import now_ms
    from tests.channels.test_saved_replies import _ack_channel, _open, _outgoing
    from tests.channels.zalo_helpers import deliver, variant

    channel = await _ack_channel(client, world, zalo)
    await deliver(client, channel, variant("user_send_text", timestamp=now_ms()))
    first = (await client.get("/api/v1/conversations", headers=world.auth("operator"))).json()
    code = await _open(client, world, first["items"][0]["id"])
    [ack] = await _outgoing(client, world, first["items"][0]["id"])
    assert ack["text"] == f"Đã nhận, mã {code}"
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        assert (await session.scalars(select(SurgeChange))).all() == []


async def test_the_menus_surge_announcement_is_a_configured_prompt_or_none(client, world) -> None:
    from tests.phoneconfig.test_api import _item, menu_body

    admin = world.auth("admin")
    config = (await client.get("/api/v1/phone", headers=admin)).json()
    assert _item(config, "menus", "main")["data"]["surge_prompt"] == "surge_menu"
    assert "thường gặp" in _item(config, "prompts", "surge_menu")["data"]["text"]
    assert "phím 1" in _item(config, "prompts", "surge_queue")["data"]["text"]
    r = await client.put(
        "/api/v1/phone/menus/main", json=menu_body(surge_prompt="nowhere"), headers=admin
    )
    assert r.status_code == 422 and r.json()["field"] == "surge_prompt"
    r = await client.put(
        "/api/v1/phone/menus/main", json=menu_body(surge_prompt=None), headers=admin
    )
    assert r.status_code == 200, r.text
    config = (await client.get("/api/v1/phone", headers=admin)).json()
    assert _item(config, "menus", "main")["data"]["surge_prompt"] is None


async def test_the_expected_wait_is_shared_among_the_operators_on_the_line(
    app, client, world
) -> None:
    # Two call takers of the operator queue, on the shift running now, and a consult
    # doctor are available.
    day, shift = await _running_shift(client, world)
    for who in ("operator", "supervisor"):
        r = await client.post(
            "/api/v1/roster",
            json={
                "day": str(day),
                "shift_id": shift["id"],
                "user_id": await _me(client, world, who),
            },
            headers=world.auth("supervisor"),
        )
        assert r.status_code == 201, r.text
    for who in ("operator", "supervisor", "doctor"):
        r = await client.put(
            "/api/v1/agents/me/status", json={"status": "available"}, headers=world.auth(who)
        )
        assert r.status_code == 200, r.text
    await _enter_surge(app)
    surge = (await client.get("/api/v1/surge", headers=world.auth("operator"))).json()
    # 12 waiting and the newcomer, 300 s each, over two operators (not the doctor).
    assert surge["expected_wait_seconds"] == 13 * 300 // 2
