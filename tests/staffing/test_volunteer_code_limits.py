"""The code texted to a sign-up's number: at most three a number over any 24 hours however its codes
end (typed back, spent, withdrawn), a bounded number of wrong tries per code and per number
over any 24 hours across all its offers (midnight gives no fresh tries), and nothing the
sign-up typed in the text (the form must not let anyone write what they like to any
number)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from hotline.channels.models import Message
from hotline.db import Base
from hotline.staffing import confirming
from hotline.staffing.models import Volunteer
from tests.channels.helpers import SMS
from tests.conftest import SITE_TZ, site_today
from tests.staffing.test_pages import _form, csrf_of

pytestmark = pytest.mark.anyio
NUMBER = "0912000811"


async def _sms_channel(client: Any, world: Any) -> None:
    r = await client.post(
        "/api/v1/channels",
        json={"kind": "sms", "name": "SMS 1022", "settings": SMS},
        headers=world.auth("admin"),
    )
    assert r.status_code == 201, r.text


async def _sign_up(client: Any, name: str, phone: str = NUMBER) -> None:
    r = await client.post("/api/v1/public/volunteers", json={"full_name": name, "phone": phone})
    assert r.status_code == 202, r.text


async def _texts(app: Any) -> list[str]:
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        return list(
            (
                await session.scalars(
                    select(Message.text)
                    .where(Message.source == "volunteer_code")
                    .order_by(Message.id)
                )
            ).all()
        )


async def _confirm(client: Any, code: str) -> int:
    r = await client.post("/api/v1/public/volunteers/confirm", json={"phone": NUMBER, "code": code})
    return r.status_code


def _code(text: str) -> str:
    return text.split(" là ")[1][:6]


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def test_a_number_is_texted_three_codes_a_day_however_they_end(app, client, world) -> None:
    await _sms_channel(client, world)
    for i in range(4):
        await _sign_up(client, f"Người Thứ {i}")
    texts = await _texts(app)
    assert len(texts) == 3
    # Wrong tries spend the codes; the codes were sent all the same.
    wrong = _wrong(_code(texts[0]))
    while wrong in {_code(t) for t in texts}:
        wrong = _wrong(wrong)
    for _ in range(5):
        assert await _confirm(client, wrong) == 422
    for i in range(3):
        await _sign_up(client, f"Người Sau {i}")
    assert len(await _texts(app)) == 3


async def test_wrong_tries_are_counted_for_the_number_across_its_offers(app, client, world) -> None:
    await _sms_channel(client, world)
    await _sign_up(client, "Người Thứ Nhất")
    wrong = _wrong(_code((await _texts(app))[0]))
    for _ in range(confirming.NUMBER_TRIES - 1):
        assert await _confirm(client, wrong) == 422
    # A later offer's fresh code does not give the number a fresh set of tries.
    await _sign_up(client, "Người Thứ Hai")
    right = _code((await _texts(app))[1])
    if wrong == right:
        pytest.skip("the second code drawn was the wrong one typed")
    assert await _confirm(client, wrong) == 422
    # The number has had its wrong tries: the right code is refused unchecked.
    assert await _confirm(client, right) == 422
    r = await client.get(
        "/api/v1/volunteers", params={"phone": NUMBER}, headers=world.auth("supervisor")
    )
    assert {v["phone_confirmed"] for v in r.json()["items"]} == {None}


async def test_the_code_text_holds_nothing_the_sign_up_typed(app, client, world) -> None:
    await _sms_channel(client, world)
    await _sign_up(client, "Trúng thưởng xem tại evil.example/nhan-qua")
    (text,) = await _texts(app)
    assert "evil" not in text and "Trúng" not in text
    assert text == confirming.CODE_TEXT.format(code=_code(text))


async def _as_if_before_midnight(app: Any) -> None:
    """Move the number's sign-ups, texts and wrong tries to a minute before the site's
    midnight today: what happened a moment ago happened yesterday, site time."""
    eve = datetime.combine(site_today(), datetime.min.time(), tzinfo=SITE_TZ) - timedelta(minutes=1)
    async with app.state.hotline.unit_of_work() as session:
        await session.execute(update(Volunteer).values(created_at=eve))
        await session.execute(update(Message).values(created_at=eve))
        misses = Base.metadata.tables.get("volunteer_code_miss")
        if misses is not None:
            await session.execute(misses.update().values(at=eve))


async def test_midnight_gives_a_number_no_fresh_tries(app, client, world) -> None:
    await _sms_channel(client, world)
    await _sign_up(client, "Người Thứ Nhất")
    wrong = _wrong(_code((await _texts(app))[0]))
    for _ in range(confirming.NUMBER_TRIES):
        assert await _confirm(client, wrong) == 422
    await _as_if_before_midnight(app)
    # After midnight a new sign-up is texted a new code (three a day) ...
    await _sign_up(client, "Người Thứ Hai")
    texts = await _texts(app)
    assert len(texts) == 2
    # ... but the number had its wrong tries within the last 24 hours: refused unchecked.
    assert await _confirm(client, _code(texts[1])) == 422
    r = await client.get(
        "/api/v1/volunteers", params={"phone": NUMBER}, headers=world.auth("supervisor")
    )
    assert {v["phone_confirmed"] for v in r.json()["items"]} == {None}


async def test_a_code_is_spent_by_its_own_wrong_tries(app, client, world) -> None:
    await _sms_channel(client, world)
    await _sign_up(client, "Người Thứ Nhất")
    first = _code((await _texts(app))[0])
    for _ in range(confirming.CODE_TRIES):
        assert await _confirm(client, _wrong(first)) == 422
    assert await _confirm(client, first) == 422  # spent
    # The number has tries left (fewer than NUMBER_TRIES): a new code works.
    assert confirming.CODE_TRIES + 1 < confirming.NUMBER_TRIES
    await _sign_up(client, "Người Thứ Hai")
    second = _code((await _texts(app))[1])
    assert await _confirm(client, second) == 200


async def test_codes_are_counted_over_24_hours_not_per_site_day(app, client, world) -> None:
    await _sms_channel(client, world)
    for i in range(confirming.CODES_PER_DAY):
        await _sign_up(client, f"Người Thứ {i}")
    assert len(await _texts(app)) == confirming.CODES_PER_DAY
    await _as_if_before_midnight(app)
    # A minute after the site's midnight the number has had its codes within 24 hours:
    # none more is texted, and the sign-up says so plainly.
    r = await client.post(
        "/api/v1/public/volunteers", json={"full_name": "Người Sau Nửa Đêm", "phone": NUMBER}
    )
    assert r.status_code == 202, r.text
    assert len(await _texts(app)) == confirming.CODES_PER_DAY
    assert r.json()["code"] == "limit"
    assert "24 giờ" in r.json()["detail"]


async def test_the_sign_up_page_says_why_no_code_was_texted(app, client, world) -> None:
    await _sms_channel(client, world)
    for i in range(confirming.CODES_PER_DAY):
        await _sign_up(client, f"Người Thứ {i}")
    csrf = csrf_of((await client.get("/tinh-nguyen")).text)
    r = await client.post(
        "/tinh-nguyen",
        data=_form(csrf, full_name="Người Thứ Tư", phone=NUMBER),
        follow_redirects=True,
    )
    assert r.status_code == 200, r.text
    assert "code-form" not in r.text
    assert "đã nhận đủ 3 mã xác nhận trong 24 giờ qua" in r.text


async def test_sign_ups_at_once_are_texted_no_more_than_three_codes(app, client, world) -> None:
    """The count of codes sent and the sending are one step per number: sign-ups arriving
    together (each its own transaction on PostgreSQL) cannot each see room for one more."""
    await _sms_channel(client, world)
    await asyncio.gather(*(_sign_up(client, f"Người Cùng Lúc {i}") for i in range(8)))
    assert len(await _texts(app)) == 3
