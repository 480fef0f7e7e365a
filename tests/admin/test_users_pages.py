"""Users and roles at /admin/users: the list, creating accounts, disabling, passwords,
signing out everywhere and the phone's SIP login, through the account services."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from hotline.agents.models import Agent
from hotline.auth.models import User
from tests.admin.helpers import page_client, post_form, sign_in_status, token_works

pytestmark = pytest.mark.anyio


async def _user_id(app, username: str) -> int:
    async with app.state.hotline.unit_of_work() as session:
        found = await session.scalar(select(User.id).where(User.username == username))
        assert found is not None
        return found


async def _create(admin, **fields: str):
    data = {"username": "", "full_name": "", "role": "operator", "unit": "", "password": ""}
    return await post_form(admin, "/admin/users", "/admin/users", **{**data, **fields})


async def test_signed_out_visitors_are_sent_to_the_login_page(client, world):
    for path in ("/admin", "/admin/users", "/admin/categories", "/admin/units", "/admin/triage"):
        r = await client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login", path


async def test_operators_are_refused_and_supervisors_see_the_list_without_controls(app, world):
    operator = await page_client(app, "operator")
    index = await operator.get("/admin")
    assert "Không có trang quản trị nào dành cho tài khoản này." in index.text
    assert 'href="/admin/users"' not in index.text
    r = await operator.get("/admin/users")
    assert r.status_code == 403
    assert "Chỉ quản trị viên hoặc trưởng ca xem được danh sách tài khoản" in r.text
    r = await operator.get(f"/admin/users/{await _user_id(app, 'admin')}")
    assert r.status_code == 403 and "Tạo lúc" not in r.text
    supervisor = await page_client(app, "supervisor")
    index = await supervisor.get("/admin")
    assert index.status_code == 200 and 'href="/admin/users"' in index.text
    assert 'href="/admin/categories"' not in index.text  # directory: administrators only
    listing = await supervisor.get("/admin/users")
    assert listing.status_code == 200
    assert ">operator</a>" in listing.text and ">officer</a>" in listing.text
    assert 'action="/admin/users"' not in listing.text
    # The service refuses the change whatever the page offered.
    r = await _create(supervisor, username="lan", password="mat-khau-moi-1022")
    assert r.status_code == 403
    assert "Chỉ quản trị viên được tạo tài khoản" in r.text
    detail = await supervisor.get(f"/admin/users/{await _user_id(app, 'operator')}")
    assert detail.status_code == 200 and "/active" not in detail.text
    r = await supervisor.post(
        f"/admin/users/{await _user_id(app, 'operator')}/active",
        data={
            "csrf": re.search(r'csrf-token" content="([^"]+)', detail.text).group(1),
            "active": "0",
        },
    )
    assert r.status_code == 403 and "Chỉ quản trị viên được quản lý tài khoản" in r.text
    assert await sign_in_status(supervisor, "operator") == 200


async def test_an_admin_creates_an_operator_and_sees_who_and_when(app, world):
    admin = await page_client(app, "admin")
    r = await _create(
        admin, username="Lan.Nguyen", full_name="Nguyễn Thị Lan", password="mat-khau-moi-1022"
    )
    assert r.status_code == 303, r.text
    page = await admin.get(r.headers["location"])
    assert "Đã tạo tài khoản." in page.text
    assert "Nguyễn Thị Lan" in page.text and "lan.nguyen" in page.text
    assert "Tổng đài viên" in page.text and "Tạo lúc" in page.text
    assert await sign_in_status(admin, "lan.nguyen", "mat-khau-moi-1022") == 200


async def test_a_refused_account_shows_the_message_by_its_field_and_keeps_what_was_typed(
    app, world
):
    admin = await page_client(app, "admin")
    r = await _create(admin, username="operator", full_name="Trần Văn Hùng", password="x" * 12)
    assert r.status_code == 409
    assert re.search(r'id="username-error"[^>]*>Tên đăng nhập đã tồn tại: operator<', r.text)
    assert 'value="Trần Văn Hùng"' in r.text
    r = await _create(admin, username="hung", role="unit_officer", password="x" * 12)
    assert r.status_code == 422 and 'id="unit-error"' in r.text
    assert '<option value="unit_officer" selected>' in r.text
    r = await _create(admin, username="hung", password="short")
    assert r.status_code == 422 and 'id="password-error"' in r.text
    assert 'value="hung"' in r.text
    assert await sign_in_status(admin, "hung", "x" * 12) == 401  # nothing half-saved


async def test_disabling_ends_the_sign_ins_and_enabling_restores_the_account(app, world):
    admin = await page_client(app, "admin")
    operator = await _user_id(app, "operator")
    page = f"/admin/users/{operator}"
    r = await post_form(admin, page, f"{page}/active", active="0")
    assert r.status_code == 303
    shown = await admin.get(r.headers["location"])
    assert "Đã khoá tài khoản" in shown.text and 'id="state">Đã khoá<' in shown.text
    assert not await token_works(admin, world.tokens["operator"])
    assert await sign_in_status(admin, "operator") == 401
    r = await post_form(admin, page, f"{page}/active", active="1")
    assert r.status_code == 303
    assert await sign_in_status(admin, "operator") == 200


async def test_disabling_the_last_administrator_is_explained_next_to_the_button(app, world):
    admin = await page_client(app, "admin")
    me = await _user_id(app, "admin")
    r = await post_form(admin, f"/admin/users/{me}", f"/admin/users/{me}/active", active="0")
    assert r.status_code == 409
    assert re.search(
        r'id="active-error"[^>]*>Không thể khoá quản trị viên cuối cùng còn hoạt động<', r.text
    )
    assert await sign_in_status(admin, "admin") == 200


async def test_a_new_password_replaces_the_old_and_ends_the_sign_ins(app, world):
    admin = await page_client(app, "admin")
    operator = await _user_id(app, "operator")
    page = f"/admin/users/{operator}"
    r = await post_form(admin, page, f"{page}/password", password="ngan")
    assert r.status_code == 422 and 'id="password-error"' in r.text
    assert await token_works(admin, world.tokens["operator"])
    r = await post_form(admin, page, f"{page}/password", password="mat-khau-thu-hai-1022")
    assert r.status_code == 303
    assert not await token_works(admin, world.tokens["operator"])
    assert await sign_in_status(admin, "operator", "mat-khau-thu-hai-1022") == 200


async def test_signing_a_user_out_everywhere_keeps_the_account_open(app, world):
    admin = await page_client(app, "admin")
    officer = await _user_id(app, "officer")
    page = f"/admin/users/{officer}"
    r = await post_form(admin, page, f"{page}/revoke")
    assert r.status_code == 303
    assert "Đã đăng xuất tài khoản khỏi mọi nơi." in (await admin.get(r.headers["location"])).text
    assert not await token_works(admin, world.tokens["officer"])
    assert await sign_in_status(admin, "officer") == 200


async def test_the_sip_login_is_set_with_errors_next_to_its_fields(app, world):
    admin = await page_client(app, "admin")
    operator = await _user_id(app, "operator")
    page = f"/admin/users/{operator}"
    r = await post_form(
        admin, page, f"{page}/sip", sip_username="may 01", sip_password="sip-pass-1022", sip_uri=""
    )
    assert r.status_code == 422 and 'id="sip_username-error"' in r.text
    assert 'value="may 01"' in r.text
    r = await post_form(
        admin, page, f"{page}/sip", sip_username="may01", sip_password="ngan", sip_uri=""
    )
    assert r.status_code == 422 and 'id="sip_password-error"' in r.text
    r = await post_form(
        admin,
        page,
        f"{page}/sip",
        sip_username="may01",
        sip_password="sip-pass-1022",
        sip_uri="sip:may01@10.0.0.5",
    )
    assert r.status_code == 303
    shown = await admin.get(r.headers["location"])
    assert 'id="sip">may01 · sip:may01@10.0.0.5<' in shown.text
    async with app.state.hotline.unit_of_work() as session:
        agent = await session.get(Agent, operator)
        assert agent is not None and agent.sip_username == "may01" and agent.sip_ha1
    listing = await admin.get("/admin/users")
    assert "<td>may01</td>" in listing.text
    # Another phone may not take the same login.
    supervisor = await _user_id(app, "supervisor")
    r = await post_form(
        admin,
        f"/admin/users/{supervisor}",
        f"/admin/users/{supervisor}/sip",
        sip_username="may01",
        sip_password="sip-pass-1022",
        sip_uri="",
    )
    assert r.status_code == 409 and "Tên đăng nhập SIP đã được dùng" in r.text


async def test_a_form_without_the_sessions_token_changes_nothing(app, world):
    admin = await page_client(app, "admin")
    operator = await _user_id(app, "operator")
    await admin.get("/admin/users")
    r = await admin.post(f"/admin/users/{operator}/active", data={"csrf": "x", "active": "0"})
    assert r.status_code == 400 and "Phiên làm việc đã hết hạn" in r.text
    assert await sign_in_status(admin, "operator") == 200


async def test_an_unknown_user_is_a_not_found_page(app, world):
    admin = await page_client(app, "admin")
    r = await admin.get("/admin/users/987654")
    assert r.status_code == 404 and "Không tìm thấy người dùng" in r.text
