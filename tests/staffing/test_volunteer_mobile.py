"""A volunteer is reached on a Vietnamese mobile number (texted a code, alerted in a surge,
phoned by the shift lead): a service or premium number, a landline or a foreign number is
refused at sign-up, naming `phone`."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "phone",
    [
        "19001234",  # a premium-rate service number
        "1900 1234",
        "18001091",  # a toll-free number
        "024 3825 2222",  # a Hà Nội landline
        "+1 202 555 0143",  # a United States number
        "+33 6 12 34 56 78",  # a French mobile
        "+84 24 3825 2222",  # the landline again, with +84
    ],
)
async def test_a_number_that_is_not_a_vietnamese_mobile_is_refused(client: Any, phone: str) -> None:
    r = await client.post(
        "/api/v1/public/volunteers", json={"full_name": "Trần Văn Bình", "phone": phone}
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == "phone"
    assert "di động Việt Nam" in r.json()["detail"]


@pytest.mark.parametrize(
    ("phone", "e164"),
    [
        ("0912 000 931", "+84912000931"),
        ("+84 386 000 932", "+84386000932"),
        ("0586000933", "+84586000933"),
        ("0706000934", "+84706000934"),
        ("84 816 000 935", "+84816000935"),
    ],
)
async def test_vietnamese_mobiles_are_taken_in_e164(
    client: Any, world: Any, phone: str, e164: str
) -> None:
    r = await client.post(
        "/api/v1/public/volunteers", json={"full_name": "Trần Văn Bình", "phone": phone}
    )
    assert r.status_code == 202, r.text
    listed = await client.get(
        "/api/v1/volunteers", params={"phone": e164}, headers=world.auth("supervisor")
    )
    assert [v["phone"] for v in listed.json()["items"]] == [e164]
