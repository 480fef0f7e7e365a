"""A call taker asks for a swap from their own week on the staffing page, and withdraws
it there; the service's refusal is shown next to the field it names."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from hotline.staffing.models import RosterEntry
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


async def test_an_ended_place_is_listed_without_a_swap_form(app, client, world) -> None:
    """A shift already over cannot be swapped (the service refuses it, 422): the operator's
    own week lists its place as a record, with no form offering a swap that must fail."""
    operator = await _me(client, world, "operator")
    morning = await _shift(client, world, "sang")
    before = site_today() - timedelta(days=2)
    later = site_today() + timedelta(days=1)
    async with app.state.hotline.unit_of_work() as session:
        ended = RosterEntry(day=before, shift_id=morning["id"], user_id=operator)
        coming = RosterEntry(day=later, shift_id=morning["id"], user_id=operator)
        session.add_all([ended, coming])
        await session.flush()
        ended_id, coming_id = ended.id, coming.id
    await sign_in(client, "operator")
    page = (await client.get(f"/staffing?date={before}")).text
    mine = re.search(r'<ul id="my-shifts">(.*?)</ul>', page, re.S)
    assert mine and before.strftime("%d/%m") in mine.group(1)
    assert f"/staffing/roster/{ended_id}/swap" not in page
    page = (await client.get(f"/staffing?date={later}")).text
    assert f'action="/staffing/roster/{coming_id}/swap"' in page


async def test_a_supervisor_asked_to_take_a_place_accepts_it_on_the_page(client, world) -> None:
    """A supervisor answers the operator queue too, so a swap may name them as the
    colleague: their page, which shows every open request with the lead's buttons, offers
    them the colleague's answer on their own, and the accept goes through."""
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
    r = await client.post(
        f"/api/v1/roster/{r.json()['id']}/swaps",
        json={"to_user_id": supervisor},
        headers=world.auth("operator"),
    )
    assert r.status_code == 201, r.text
    swap = r.json()["id"]
    await sign_in(client, "supervisor")
    page = (await client.get(f"/staffing?date={day}")).text
    assert 'id="swaps-to-me"' in page
    assert f'id="accept-swap-{swap}"' in page and f'id="decline-swap-{swap}"' in page
    r = await client.post(
        f"/staffing/swaps/{swap}/accept", data={"csrf": csrf_of(page)}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    [row] = (await client.get("/api/v1/swaps", headers=world.auth("supervisor"))).json()["items"]
    assert (row["status"], row["answered_by"]) == ("accepted", supervisor)
