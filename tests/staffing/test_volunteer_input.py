"""The volunteer sign-up: names without control or invisible characters, languages from
the supported list, the same answer for a number already signed up (no enumeration), one
waiting swap request per place and colleague held by the database, and the staffing lists
paged as the other lists of the API."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hotline.channels.models import Message
from hotline.staffing.models import ShiftSwap, SwapStatus
from tests.channels.helpers import SMS
from tests.conftest import site_today
from tests.staffing.test_roster import _shift
from tests.staffing.test_roster_rules import _me

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "name",
    [
        "Trần\u202eVăn Bình",  # right-to-left override
        "Trần\u200bVăn Bình",  # zero-width space
        "Trần Văn\u200d Bình",  # zero-width joiner
        "Trần\x07Văn",  # a control character
        "\u2066Trần Văn Bình\u2069",  # isolates
    ],
)
async def test_a_name_with_invisible_or_control_characters_is_refused(client, name) -> None:
    r = await client.post(
        "/api/v1/public/volunteers", json={"full_name": name, "phone": "0912000701"}
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == "full_name"
    assert "ký tự điều khiển hoặc ký tự ẩn" in r.json()["detail"]


async def test_a_name_is_trimmed_and_needs_letters_and_a_length(client, world) -> None:
    for bad in ("A", "12345", "   "):
        r = await client.post(
            "/api/v1/public/volunteers", json={"full_name": bad, "phone": "0912000702"}
        )
        assert r.status_code == 422 and r.json()["field"] == "full_name", (bad, r.text)
    r = await client.post(
        "/api/v1/public/volunteers",
        json={"full_name": "  Lê \t Thị   Hoa \n", "phone": "0912000702"},
    )
    assert r.status_code == 202, r.text
    listed = (await client.get("/api/v1/volunteers", headers=world.auth("supervisor"))).json()
    assert listed["items"][0]["full_name"] == "Lê Thị Hoa"


async def test_languages_come_from_the_supported_list(client, world) -> None:
    body = {"full_name": "Lê Thị Hoa", "phone": "0912000703"}
    r = await client.post(
        "/api/v1/public/volunteers", json={**body, "skills": {"languages": ["vi", "xx"]}}
    )
    assert r.status_code == 422 and r.json()["field"] == "skills.languages", r.text
    assert "xx" in r.json()["detail"] and "chưa được hỗ trợ" in r.json()["detail"]
    r = await client.post(
        "/api/v1/public/volunteers", json={**body, "skills": {"languages": ["vi", "KM", "hmn"]}}
    )
    assert r.status_code == 202, r.text
    listed = (await client.get("/api/v1/volunteers", headers=world.auth("supervisor"))).json()
    assert listed["items"][0]["skills"]["languages"] == ["hmn", "km", "vi"]


async def test_a_number_already_signed_up_gets_the_same_answer_and_is_texted_a_code(
    app, client, world
) -> None:
    # An SMS channel: each sign-up's number is texted a code (naming nobody).
    r = await client.post(
        "/api/v1/channels",
        json={"kind": "sms", "name": "SMS 1022", "settings": SMS},
        headers=world.auth("admin"),
    )
    assert r.status_code == 201, r.text
    first = await client.post(
        "/api/v1/public/volunteers", json={"full_name": "Lê Thị Hoa", "phone": "0912000704"}
    )
    second = await client.post(
        "/api/v1/public/volunteers",
        json={"full_name": "Người Khác", "phone": "+84 912 000 704", "note": "thử"},
    )
    fresh = await client.post(
        "/api/v1/public/volunteers", json={"full_name": "Ai Đó", "phone": "0912000705"}
    )
    assert first.status_code == second.status_code == fresh.status_code == 202
    assert first.json() == second.json() == fresh.json()
    assert "đã nhận được đăng ký" in first.json()["detail"]
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        texts = (
            await session.scalars(select(Message.text).where(Message.source == "volunteer_code"))
        ).all()
    assert len(texts) == 3
    assert all("bỏ qua tin này" in t and "Người Khác" not in t for t in texts)
    # A number is texted at most three codes a day: sign-ups cannot flood a phone.
    for _ in range(3):
        await client.post(
            "/api/v1/public/volunteers", json={"full_name": "Lê Thị Hoa", "phone": "0912000704"}
        )
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        again = (
            await session.scalars(select(Message.id).where(Message.source == "volunteer_code"))
        ).all()
    assert len(again) == 4


async def test_the_same_swap_asked_twice_at_once_lands_once(app, client, world) -> None:
    sup, op = world.auth("supervisor"), world.auth("operator")
    operator, supervisor = (
        await _me(client, world, "operator"),
        await _me(client, world, "supervisor"),
    )
    morning = await _shift(client, world, "sang")
    r = await client.post(
        "/api/v1/roster",
        json={
            "day": str(site_today() + timedelta(days=4)),
            "shift_id": morning["id"],
            "user_id": operator,
        },
        headers=sup,
    )
    entry = r.json()["id"]
    path = f"/api/v1/roster/{entry}/swaps"
    answers = await asyncio.gather(
        *(client.post(path, json={"to_user_id": supervisor}, headers=op) for _ in range(3))
    )
    codes = sorted(a.status_code for a in answers)
    assert codes == [201, 409, 409], [a.text for a in answers]
    for refused in (a for a in answers if a.status_code == 409):
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["field"] == "to_user_id"
    # The key itself: a second waiting row for the same place and colleague is refused.
    async with app.state.hotline.unit_of_work() as session:
        session.add(
            ShiftSwap(
                entry_id=entry,
                requested_by=operator,
                to_user_id=supervisor,
                status=SwapStatus.REQUESTED,
            )
        )
        with pytest.raises(IntegrityError):
            await session.flush()


async def test_the_staffing_lists_are_paged_with_a_cursor(client, world) -> None:
    for i in range(5):
        r = await client.post(
            "/api/v1/public/volunteers",
            json={"full_name": f"Tình Nguyện {i}", "phone": f"091200080{i}"},
        )
        assert r.status_code == 202, r.text
    sup = world.auth("supervisor")
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/volunteers", params=params, headers=sup)).json()
        seen += [v["id"] for v in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and len(seen) == 5 and seen == sorted(seen, reverse=True)
    r = await client.get("/api/v1/volunteers?cursor=not-a-cursor", headers=sup)
    assert r.status_code == 422 and r.json()["field"] == "cursor"
    r = await client.get("/api/v1/volunteers?limit=500", headers=sup)
    assert r.status_code == 422
    for path in ("/api/v1/swaps", "/api/v1/staffing/notices"):
        body = (await client.get(path, params={"limit": 1}, headers=sup)).json()
        assert body == {"items": [], "next_cursor": None}, path


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"skills": {"medical": "yes"}}, "skills.medical"),
        ({"skills": {"medical": 1}}, "skills.medical"),
        ({"reserve": "true"}, "reserve"),
    ],
)
async def test_a_yes_or_no_answer_is_a_true_or_false_not_a_word(client, body, field) -> None:
    r = await client.post(
        "/api/v1/public/volunteers",
        json={"full_name": "Trần Văn Bình", "phone": "0912000706", **body},
    )
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field, r.text
    # Said in the page's language, as every other refusal of a value's type is.
    assert r.json()["errors"][0]["message"] == "Phải là true hoặc false", r.text


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"skills": "medical"}, "skills", "Phải là một đối tượng JSON"),
        ({"skills": {"languages": "vi"}}, "skills.languages", "Phải là một danh sách"),
    ],
)
async def test_a_value_of_the_wrong_shape_is_refused_in_vietnamese(
    client, body, field, message
) -> None:
    r = await client.post(
        "/api/v1/public/volunteers",
        json={"full_name": "Trần Văn Bình", "phone": "0912000706", **body},
    )
    assert r.status_code == 422, r.text
    assert (r.json()["field"], r.json()["errors"][0]["message"]) == (field, message), r.text


async def test_a_withdrawal_reason_is_held_to_the_length_the_service_keeps(app) -> None:
    reason = app.openapi()["components"]["schemas"]["WithdrawIn"]["properties"]["reason"]
    assert reason["maxLength"] == 200
