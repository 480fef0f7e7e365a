"""The hotline's replies on the citizen's tracking page, and never its internal notes."""

from __future__ import annotations

import re

import pytest

from tests.portal.test_portal import send, track

pytestmark = pytest.mark.anyio


async def test_tracking_shows_the_replies_and_never_an_internal_note(client, world):
    sent = await send(client)
    staff = world.auth("operator")
    url = f"/api/v1/cases/{sent['code']}/notes"
    for body in (
        {"text": "Người này gọi nhiều lần, số máy 0988 777 666", "visibility": "internal"},
        {"text": "Tổng đài đã chuyển phản ánh đến UBND phường.", "visibility": "reply"},
        {"text": "Phường hẹn kiểm tra\nvào sáng mai.", "visibility": "reply"},
    ):
        assert (await client.post(url, json=body, headers=staff)).status_code == 201
    r = await track(client, sent["code"], sent["secret"])
    assert r.status_code == 200
    replies = r.text[r.text.index('id="replies"') :]
    found = re.findall(r"<p>([^<]+)</p>", replies[: replies.index("</ol>")])
    assert found == [
        "Tổng đài đã chuyển phản ánh đến UBND phường.",
        "Phường hẹn kiểm tra",
        "vào sáng mai.",
    ]
    assert "gọi nhiều lần" not in r.text and "0988 777 666" not in r.text
    # Replies are not the answer: the case is not resolved by them.
    assert 'id="status">Mới<' in r.text and "Chưa có trả lời" not in r.text
