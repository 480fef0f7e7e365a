"""Volunteer offers on the pages, over HTTP as a browser posts them: the supervisor sees
how each offer's number was proved and the number's other offers, withdraws an offer with
a reason (told how many future places went), moves an approved one to another account
picked by name or unlinks it; the volunteer withdraws their own from their staffing page;
the portal's thank-you page takes the texted code. Each form calls the API's service:
mistakes next to their field in Vietnamese, a post without the form token changes
nothing, an operator is refused."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import site_today
from tests.dashboard.helpers import sign_in
from tests.staffing.test_pages import _form, csrf_of
from tests.staffing.test_roster import _shift
from tests.staffing.test_roster_rules import _me, _volunteer
from tests.staffing.test_volunteer_phone import _code_for, _sms_channel

pytestmark = pytest.mark.anyio
NUMBER = "0912000804"
TOO_LONG = "x" * 201


async def _offer(client: Any, world: Any, vid: int) -> dict[str, Any]:
    r = await client.get("/api/v1/volunteers", headers=world.auth("supervisor"))
    assert r.status_code == 200, r.text
    return next(v for v in r.json()["items"] if v["id"] == vid)


async def _approved(client: Any, world: Any, phone: str, user_id: int | None = None) -> int:
    vid = await _volunteer(client, world, phone)
    r = await client.post(
        f"/api/v1/volunteers/{vid}/approve",
        json={"user_id": user_id} if user_id else None,
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 200, r.text
    return vid


def _row(html: str, attr: str, vid: int) -> str:
    row = re.search(rf'<tr {attr}="{vid}">(.*?)</tr>', html, re.S)
    assert row, html[:300]
    return row.group(1)


def _error(html: str, key: str) -> str:
    found = re.search(rf'id="{key}-error"[^>]*>([^<]*)<', html)
    assert found, f"no message for {key}"
    return found.group(1)


async def test_the_portal_takes_the_texted_code_and_the_supervisor_sees_each_proof(
    app, client, world
) -> None:
    await _sms_channel(client, world)
    csrf = csrf_of((await client.get("/tinh-nguyen")).text)
    # Someone signs up first with the number, then its owner: the same answer to both.
    answers = []
    for name in ("Kẻ Mạo Danh", "Lê Thị Hoa"):
        r = await client.post(
            "/tinh-nguyen",
            data=_form(csrf, full_name=name, phone=NUMBER),
            follow_redirects=False,
        )
        answers.append((r.status_code, r.headers["location"]))
    assert answers == [(303, "/tinh-nguyen/da-gui?ma=1")] * 2
    page = await client.get("/tinh-nguyen/da-gui?ma=1")
    assert 'action="/tinh-nguyen/xac-nhan"' in page.text and 'id="code"' in page.text
    assert NUMBER not in page.text  # nothing of the offer is shown back

    await sign_in(client, "supervisor")
    board = (await client.get("/staffing")).text
    offers = {v["full_name"]: v["id"] for v in [await _offer(client, world, i) for i in (1, 2)]}
    for vid in offers.values():
        row = _row(board, "data-volunteer", vid)
        assert 'data-proof="none"' in row and "số chưa xác nhận" in row
        assert "Còn 1 đăng ký khác với số này" in row
    await client.post("/logout", data={"csrf": csrf_of(board)})

    csrf = csrf_of((await client.get("/tinh-nguyen/da-gui?ma=1")).text)
    # A post without the form token confirms nothing.
    right = await _code_for(app, "Lê Thị Hoa")
    r = await client.post("/tinh-nguyen/xac-nhan", data={"phone": NUMBER, "code": right})
    assert r.status_code == 400 and "Phiên làm việc đã hết hạn" in r.text
    assert (await _offer(client, world, offers["Lê Thị Hoa"]))["phone_confirmed"] is None
    # A wrong code: the message next to the code field, the number kept, the code not.
    wrong = "000000" if right != "000000" else "111111"
    r = await client.post(
        "/tinh-nguyen/xac-nhan", data={"csrf": csrf, "phone": NUMBER, "code": wrong}
    )
    assert r.status_code == 422
    assert _error(r.text, "code") == "Mã xác nhận không đúng hoặc đã hết hạn"
    assert f'value="{NUMBER}"' in r.text and 'aria-describedby="code-error"' in r.text
    # A number that never offered gets the very same answer.
    r = await client.post(
        "/tinh-nguyen/xac-nhan", data={"csrf": csrf, "phone": "0912000999", "code": wrong}
    )
    assert r.status_code == 422
    assert _error(r.text, "code") == "Mã xác nhận không đúng hoặc đã hết hạn"
    r = await client.post(
        "/tinh-nguyen/xac-nhan", data={"csrf": csrf, "phone": NUMBER, "code": "12ab"}
    )
    assert r.status_code == 422 and _error(r.text, "code") == "Mã xác nhận gồm 6 chữ số"
    r = await client.post(
        "/tinh-nguyen/xac-nhan",
        data={"csrf": csrf, "phone": NUMBER, "code": right},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/tinh-nguyen/da-xac-nhan"
    assert (
        "Số điện thoại của bạn đã được xác nhận" in (await client.get(r.headers["location"])).text
    )

    # The owner's offer now says how it was proved; the stranger's was refused by it.
    other = await _approved(client, world, "0912000805")  # approved after a supervisor's call
    await sign_in(client, "supervisor")
    board = (await client.get("/staffing")).text
    row = _row(board, "data-volunteer", offers["Lê Thị Hoa"])
    assert 'data-proof="code"' in row and "Còn 1 đăng ký khác với số này" in row
    assert f'data-volunteer="{offers["Kẻ Mạo Danh"]}"' not in board
    row = _row(board, "data-approved", other)
    assert 'data-proof="supervisor"' in row and "đăng ký khác" not in row


async def test_without_a_texted_code_the_thank_you_page_has_no_code_form(client) -> None:
    csrf = csrf_of((await client.get("/tinh-nguyen")).text)
    r = await client.post("/tinh-nguyen", data=_form(csrf, phone=NUMBER), follow_redirects=False)
    assert r.headers["location"] == "/tinh-nguyen/da-gui"
    assert 'id="code-form"' not in (await client.get(r.headers["location"])).text


async def test_a_supervisor_withdraws_an_offer_and_is_told_the_places_removed(
    app, client, world
) -> None:
    sup = world.auth("supervisor")
    vid = await _approved(client, world, "0912000601")
    waiting = await _volunteer(client, world, "0912000602")
    morning = await _shift(client, world, "sang")
    for days in (1, 2):
        r = await client.post(
            "/api/v1/roster",
            json={
                "day": str(site_today() + timedelta(days=days)),
                "shift_id": morning["id"],
                "volunteer_id": vid,
            },
            headers=sup,
        )
        assert r.status_code == 201, r.text

    # An operator posting the form is refused by the service; nothing changes.
    await sign_in(client, "operator")
    csrf = csrf_of((await client.get("/staffing")).text)
    r = await client.post(f"/staffing/volunteers/{vid}/withdraw", data={"csrf": csrf})
    assert r.status_code == 404 and "Không tìm thấy tình nguyện viên" in r.text
    assert (await _offer(client, world, vid))["status"] == "approved"

    await sign_in(client, "supervisor")
    page = (await client.get("/staffing")).text
    assert f'action="/staffing/volunteers/{vid}/withdraw"' in _row(page, "data-approved", vid)
    assert f'action="/staffing/volunteers/{waiting}/withdraw"' in _row(
        page, "data-volunteer", waiting
    )
    csrf = csrf_of(page)
    r = await client.post(f"/staffing/volunteers/{vid}/withdraw", data={"reason": "x"})
    assert r.status_code == 400
    assert _error(r.text, f"withdraw-{vid}").startswith("Phiên làm việc đã hết hạn")
    r = await client.post(
        f"/staffing/volunteers/{vid}/withdraw", data={"csrf": csrf, "reason": TOO_LONG}
    )
    assert r.status_code == 422
    assert _error(r.text, f"withdraw-{vid}-reason") == "Lý do tối đa 200 ký tự"
    assert f'value="{TOO_LONG}" aria-invalid="true"' in r.text  # what was typed, kept
    assert (await _offer(client, world, vid))["status"] == "approved"

    r = await client.post(
        f"/staffing/volunteers/{vid}/withdraw",
        data={"csrf": csrf, "reason": "Chuyển công tác"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/staffing?done=volunteer_withdraw&removed=2#volunteers"
    page = (await client.get(r.headers["location"])).text
    assert "Đã rút tình nguyện viên khỏi danh sách; 2 chỗ trong các ca chưa bắt đầu" in page
    assert f'data-approved="{vid}"' not in page
    assert (await _offer(client, world, vid))["status"] == "withdrawn"
    # Withdrawn meanwhile in another tab: said on top of the page, the row being gone.
    r = await client.post(f"/staffing/volunteers/{vid}/withdraw", data={"csrf": csrf})
    assert r.status_code == 409
    assert _error(r.text, "page") == "Đăng ký này đã bị từ chối hoặc đã rút"
    # A waiting offer is withdrawn the same way.
    r = await client.post(
        f"/staffing/volunteers/{waiting}/withdraw", data={"csrf": csrf}, follow_redirects=False
    )
    assert r.headers["location"] == "/staffing?done=volunteer_withdraw&removed=0#volunteers"


async def test_a_supervisor_moves_an_offer_to_an_account_picked_by_name_or_unlinks_it(
    app, client, world
) -> None:
    operator = await _me(client, world, "operator")
    supervisor = await _me(client, world, "supervisor")
    vid = await _approved(client, world, "0912000701", user_id=operator)
    linked = await _approved(client, world, "0912000702", user_id=supervisor)

    await sign_in(client, "operator")
    csrf = csrf_of((await client.get("/staffing")).text)
    r = await client.post(f"/staffing/volunteers/{vid}/account", data={"csrf": csrf})
    assert r.status_code == 403
    assert (await _offer(client, world, vid))["user_id"] == operator

    await sign_in(client, "supervisor")
    page = (await client.get("/staffing")).text
    row = _row(page, "data-approved", vid)
    # The accounts are listed by name and username; the linked one is chosen.
    assert f'<option value="{operator}" selected>operator (operator)</option>' in row
    assert f'<option value="{supervisor}">supervisor (supervisor)</option>' in row
    assert "Không gắn tài khoản" in row
    csrf = csrf_of(page)
    r = await client.post(f"/staffing/volunteers/{vid}/account", data={"user_id": ""})
    assert r.status_code == 400
    assert (await _offer(client, world, vid))["user_id"] == operator
    # An account another volunteer has: the refusal next to the list, by name.
    r = await client.post(
        f"/staffing/volunteers/{vid}/account", data={"csrf": csrf, "user_id": str(supervisor)}
    )
    assert r.status_code == 409
    assert _error(r.text, f"relink-{vid}-user_id") == (
        "Tài khoản supervisor (supervisor) đã gắn với tình nguyện viên Hà Văn Tú"
    )
    assert f'<option value="{supervisor}" selected>' in _row(r.text, "data-approved", vid)
    r = await client.post(
        f"/staffing/volunteers/{vid}/account", data={"csrf": csrf, "user_id": "abc"}
    )
    assert r.status_code == 422
    assert _error(r.text, f"relink-{vid}-user_id") == "Chọn một tài khoản trong danh sách"

    r = await client.post(
        f"/staffing/volunteers/{linked}/account",
        data={"csrf": csrf, "user_id": ""},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/staffing?done=volunteer_unlink#volunteers"
    assert (await _offer(client, world, linked))["user_id"] is None
    r = await client.post(
        f"/staffing/volunteers/{vid}/account",
        data={"csrf": csrf, "user_id": str(supervisor)},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/staffing?done=volunteer_relink#volunteers"
    assert (await _offer(client, world, vid))["user_id"] == supervisor
    page = (await client.get(r.headers["location"])).text
    assert "Đã gắn tình nguyện viên với tài khoản đã chọn." in page
    assert re.search(r"<td data-account>supervisor</td>", _row(page, "data-approved", vid))


async def test_a_volunteer_withdraws_their_own_offer_from_their_staffing_page(
    app, client, world
) -> None:
    operator = await _me(client, world, "operator")
    await sign_in(client, "operator")
    page = (await client.get("/staffing")).text
    assert 'id="mine"' not in page  # no offer linked to this account
    csrf = csrf_of(page)
    r = await client.post("/staffing/my-offer/withdraw", data={"csrf": csrf})
    assert r.status_code == 404
    assert _error(r.text, "page") == "Tài khoản này không gắn với đăng ký tình nguyện viên nào"

    vid = await _approved(client, world, "0912000901", user_id=operator)
    morning = await _shift(client, world, "sang")
    r = await client.post(
        "/api/v1/roster",
        json={
            "day": str(site_today() + timedelta(days=3)),
            "shift_id": morning["id"],
            "volunteer_id": vid,
        },
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 201, r.text
    page = (await client.get("/staffing")).text
    assert 'id="mine"' in page, re.findall(r"<h3[^>]*>[^<]*", page)
    assert "Hà Văn Tú (+84912000901)" in page
    r = await client.post("/staffing/my-offer/withdraw", data={"reason": "x"})
    assert r.status_code == 400 and _error(r.text, "own-offer").startswith("Phiên làm việc")
    r = await client.post("/staffing/my-offer/withdraw", data={"csrf": csrf, "reason": TOO_LONG})
    assert r.status_code == 422
    assert _error(r.text, "own-offer-reason") == "Lý do tối đa 200 ký tự"
    assert (await _offer(client, world, vid))["status"] == "approved"
    r = await client.post(
        "/staffing/my-offer/withdraw",
        data={"csrf": csrf, "reason": "Bận học"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/staffing?done=volunteer_ownwithdraw&removed=1#mine"
    page = (await client.get(r.headers["location"])).text
    assert "Bạn đã rút đăng ký tình nguyện; 1 chỗ trong các ca chưa bắt đầu" in page
    assert 'id="mine"' not in page
    offer = await _offer(client, world, vid)
    assert offer["status"] == "withdrawn"
