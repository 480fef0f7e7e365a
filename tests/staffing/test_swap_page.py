"""A call taker asks for a swap from their own week on the staffing page, and withdraws
it there; the service's refusal is shown next to the field it names."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.conftest import site_today
from tests.dashboard.helpers import sign_in
from tests.staffing.test_pages import csrf_of
from tests.staffing.test_roster import _shift
from tests.staffing.test_roster_rules import _me

pytestmark = pytest.mark.anyio


async def test_an_operator_asks_for_a_swap_and_withdraws_it_on_the_page(client, world) -> None:
    operator = await _me(client, world, "operator")
    supervisor = await _me(client, world, "supervisor")
    day = site_today() + timedelta(days=1)
    evening = await _shift(client, world, "chieu")
    r = await client.post(
        "/api/v1/roster",
        json={"day": str(day), "shift_id": evening["id"], "user_id": operator},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 201, r.text
    entry = r.json()["id"]
    await sign_in(client, "operator")
    page = (await client.get(f"/staffing?date={day}")).text
    assert f'action="/staffing/roster/{entry}/swap"' in page
    assert f'<option value="{supervisor}">' in page
    csrf = csrf_of(page)
    form = {"csrf": csrf, "to_user_id": str(supervisor), "week": str(day)}
    r = await client.post(f"/staffing/roster/{entry}/swap", data={**form, "reason": "Ốm \u202e"})
    assert r.status_code == 422
    assert re.search(rf'id="swapask-{entry}-reason-error"[^>]*>[^<]*U\+202E', r.text)
    r = await client.post(
        f"/staffing/roster/{entry}/swap", data={**form, "reason": "Ốm"}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    [swap] = (await client.get("/api/v1/swaps", headers=world.auth("operator"))).json()["items"]
    assert (swap["requested_by"], swap["to_user_id"], swap["reason"]) == (
        operator,
        supervisor,
        "Ốm",
    )
    page = (await client.get(f"/staffing?date={day}")).text
    assert f'id="withdraw-swap-{swap["id"]}"' in page
    r = await client.post(
        f"/staffing/swaps/{swap['id']}/withdraw", data={"csrf": csrf}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    [swap] = (await client.get("/api/v1/swaps", headers=world.auth("operator"))).json()["items"]
    assert swap["status"] == "withdrawn"
