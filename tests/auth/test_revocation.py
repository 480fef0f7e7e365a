"""Ending access: sign-out, password changes, disabled accounts and revoked credentials end
page sessions and bearer tokens at once, through the API and the `hotline user` commands."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from hotline.auth.models import User
from hotline.cli import app as cli
from tests.auth.helpers import page_api_headers, page_sign_in, page_sign_out
from tests.conftest import PASSWORD

pytestmark = pytest.mark.anyio
NEW_PASSWORD = "mat-khau-moi-that-dai-2026"


def _browser(app: Any, cookie: str | None = None) -> httpx.AsyncClient:
    c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
    if cookie is not None:
        c.cookies.set("hotline_session", cookie)
    return c


async def _page_session_works(app: Any, cookie: str) -> bool:
    """Replays a saved cookie in a fresh browser: is it still a signed-in session?"""
    async with _browser(app, cookie) as c:
        board = await c.get("/", follow_redirects=False)
        me = await c.get("/api/v1/users/me")
    if board.status_code == 200:
        assert me.status_code == 200, me.text
        return True
    assert board.status_code == 303 and board.headers["location"] == "/login"
    assert me.status_code == 401, me.text
    return False


async def _signed_in_cookie(app: Any, username: str, password: str = PASSWORD) -> str:
    async with _browser(app) as c:
        await page_sign_in(c, username, password)
        return c.cookies["hotline_session"]


async def _token_works(client: Any, token: str) -> bool:
    r = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code in (200, 401), r.text
    return r.status_code == 200


async def _can_sign_in(client: Any, username: str, password: str) -> bool:
    r = await client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert r.status_code in (200, 401), r.text
    return r.status_code == 200


async def _user_id(app: Any, username: str) -> int:
    async with app.state.hotline.sessionmaker() as session:
        return int(await session.scalar(select(User.id).where(User.username == username)))


# --- sign-out -------------------------------------------------------------------------------


async def test_signed_out_page_session_cookie_no_longer_works(app, world):
    async with _browser(app) as c:
        await page_sign_in(c, "operator")
        saved = c.cookies["hotline_session"]
        assert await _page_session_works(app, saved)
        r = await page_sign_out(c)
        assert r.status_code == 303
    # The browser dropped its cookie; a copy kept by someone else is dead too.
    assert not await _page_session_works(app, saved)


async def test_api_logout_ends_the_page_session(app, world):
    cookie = await _signed_in_cookie(app, "operator")
    async with _browser(app, cookie) as c:
        r = await c.post("/api/v1/auth/logout", headers=await page_api_headers(c))
        assert r.status_code == 204, r.text
    assert not await _page_session_works(app, cookie)


async def test_api_logout_revokes_the_bearer_token_at_once(client, world):
    token = world.tokens["operator"]
    assert await _token_works(client, token)  # now in this process's token cache
    r = await client.post("/api/v1/auth/logout", headers=world.auth("operator"))
    assert r.status_code == 204, r.text
    assert not await _token_works(client, token)
    # Other tokens of the same user are untouched by a sign-out.
    other = await client.post(
        "/api/v1/auth/token", data={"username": "operator", "password": PASSWORD}
    )
    assert await _token_works(client, other.json()["access_token"])


async def test_logout_without_credentials_is_401(client, world):
    r = await client.post("/api/v1/auth/logout")
    assert r.status_code == 401


# --- own password ---------------------------------------------------------------------------


async def test_password_change_ends_other_sessions_and_all_tokens(app, client, world):
    token = world.tokens["operator"]
    assert await _token_works(client, token)
    other_browser = await _signed_in_cookie(app, "operator")
    this_browser = await _signed_in_cookie(app, "operator")

    async with _browser(app, this_browser) as c:
        r = await c.post(
            "/api/v1/users/me/password",
            json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
            headers=await page_api_headers(c),
        )
        assert r.status_code == 204, r.text

    assert await _page_session_works(app, this_browser)
    assert not await _page_session_works(app, other_browser)
    assert not await _token_works(client, token)
    assert not await _can_sign_in(client, "operator", PASSWORD)
    assert await _can_sign_in(client, "operator", NEW_PASSWORD)


async def test_password_change_with_a_token_revokes_that_token_too(client, world):
    token = world.tokens["officer"]
    r = await client.post(
        "/api/v1/users/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=world.auth("officer"),
    )
    assert r.status_code == 204, r.text
    assert not await _token_works(client, token)


async def test_wrong_current_password_is_refused_naming_the_field(app, client, world):
    cookie = await _signed_in_cookie(app, "operator")
    r = await client.post(
        "/api/v1/users/me/password",
        json={"current_password": "khong-dung-123", "new_password": NEW_PASSWORD},
        headers=world.auth("operator"),
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == "current_password"
    assert await _token_works(client, world.tokens["operator"])
    assert await _page_session_works(app, cookie)
    assert await _can_sign_in(client, "operator", PASSWORD)


async def test_guessing_the_current_password_is_throttled_like_sign_in(app, client, world):
    limit = app.state.hotline.settings.login_failures_per_username
    codes = []
    for n in range(limit):
        r = await client.post(
            "/api/v1/users/me/password",
            json={"current_password": f"doan-sai-{n:03d}", "new_password": NEW_PASSWORD},
            headers=world.auth("operator"),
        )
        codes.append(r.status_code)
    assert codes == [422] * limit
    r = await client.post(
        "/api/v1/users/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=world.auth("operator"),
    )
    assert r.status_code == 429, r.text
    assert await _token_works(client, world.tokens["operator"])


async def test_too_short_new_password_is_refused(client, world):
    r = await client.post(
        "/api/v1/users/me/password",
        json={"current_password": PASSWORD, "new_password": "ngan"},
        headers=world.auth("operator"),
    )
    assert r.status_code == 422, r.text
    assert await _can_sign_in(client, "operator", PASSWORD)


# --- the administrator ----------------------------------------------------------------------


async def test_disabling_a_user_ends_their_token_and_page_session_at_once(app, client, world):
    token = world.tokens["operator"]
    assert await _token_works(client, token)
    cookie = await _signed_in_cookie(app, "operator")
    operator_id = await _user_id(app, "operator")

    r = await client.patch(
        f"/api/v1/users/{operator_id}", json={"active": False}, headers=world.auth("admin")
    )
    assert r.status_code == 200, r.text
    assert r.json()["active"] is False

    assert not await _token_works(client, token)
    assert not await _page_session_works(app, cookie)
    assert not await _can_sign_in(client, "operator", PASSWORD)

    # Enabling opens the account again, but what was revoked stays revoked.
    r = await client.patch(
        f"/api/v1/users/{operator_id}", json={"active": True}, headers=world.auth("admin")
    )
    assert r.json()["active"] is True
    assert await _can_sign_in(client, "operator", PASSWORD)
    assert not await _token_works(client, token)
    assert not await _page_session_works(app, cookie)


async def test_last_active_admin_cannot_be_disabled(app, client, world):
    admin_id = await _user_id(app, "admin")
    r = await client.patch(
        f"/api/v1/users/{admin_id}", json={"active": False}, headers=world.auth("admin")
    )
    assert r.status_code == 409, r.text
    assert r.json()["field"] == "active"
    assert await _token_works(client, world.tokens["admin"])

    r = await client.post(
        "/api/v1/users",
        json={"username": "admin2", "password": PASSWORD, "role": "admin"},
        headers=world.auth("admin"),
    )
    assert r.status_code == 201, r.text
    r = await client.patch(
        f"/api/v1/users/{admin_id}", json={"active": False}, headers=world.auth("admin")
    )
    assert r.status_code == 200, r.text
    assert not await _token_works(client, world.tokens["admin"])


async def test_admin_revokes_all_tokens_and_sessions_of_a_user(app, client, world):
    token = world.tokens["officer"]
    assert await _token_works(client, token)
    cookie = await _signed_in_cookie(app, "officer")
    officer_id = await _user_id(app, "officer")

    r = await client.post(f"/api/v1/users/{officer_id}/revoke", headers=world.auth("admin"))
    assert r.status_code == 200, r.text
    assert r.json() == {"tokens": 1, "sessions": 1}

    assert not await _token_works(client, token)
    assert not await _page_session_works(app, cookie)
    assert await _can_sign_in(client, "officer", PASSWORD)  # the account stays open


async def test_admin_sets_a_password_and_old_credentials_end(app, client, world):
    token = world.tokens["doctor"]
    cookie = await _signed_in_cookie(app, "doctor")
    doctor_id = await _user_id(app, "doctor")
    r = await client.patch(
        f"/api/v1/users/{doctor_id}", json={"password": NEW_PASSWORD}, headers=world.auth("admin")
    )
    assert r.status_code == 200, r.text
    assert not await _token_works(client, token)
    assert not await _page_session_works(app, cookie)
    assert not await _can_sign_in(client, "doctor", PASSWORD)
    assert await _can_sign_in(client, "doctor", NEW_PASSWORD)


@pytest.mark.parametrize("who", ["supervisor", "operator", "officer"])
async def test_only_admins_manage_accounts(app, client, world, who):
    operator_id = await _user_id(app, "colleague")
    for r in (
        await client.patch(
            f"/api/v1/users/{operator_id}", json={"active": False}, headers=world.auth(who)
        ),
        await client.patch(
            f"/api/v1/users/{operator_id}", json={"password": NEW_PASSWORD}, headers=world.auth(who)
        ),
        await client.post(f"/api/v1/users/{operator_id}/revoke", headers=world.auth(who)),
    ):
        assert r.status_code == 403, r.text
    assert await _token_works(client, world.tokens["colleague"])
    assert await _can_sign_in(client, "colleague", PASSWORD)


async def test_unknown_user_is_404(client, world):
    r = await client.patch(
        "/api/v1/users/999999", json={"active": False}, headers=world.auth("admin")
    )
    assert r.status_code == 404


# --- the `hotline user` commands --------------------------------------------------------------


def _cli(database_url: str, var_dir: Path, *args: str) -> Any:
    env = {"HOTLINE_DATABASE_URL": database_url, "HOTLINE_VAR_DIR": str(var_dir)}
    return CliRunner().invoke(cli, ["user", *args], env=env)


async def _run_cli(database_url: str, var_dir: Path, *args: str) -> Any:
    result = await anyio.to_thread.run_sync(partial(_cli, database_url, var_dir, *args))
    return result


async def test_cli_disable_and_enable(app, client, world, database_url, tmp_path):
    # Not used before, so not in the web process's token cache (the CLI is another process
    # as far as that cache is concerned: there a revoked token may live up to 10 s).
    token = world.tokens["operator"]
    cookie = await _signed_in_cookie(app, "operator")
    result = await _run_cli(database_url, tmp_path / "var", "disable", "--username", "operator")
    assert result.exit_code == 0, result.output
    assert not await _token_works(client, token)
    assert not await _page_session_works(app, cookie)
    assert not await _can_sign_in(client, "operator", PASSWORD)

    result = await _run_cli(database_url, tmp_path / "var", "enable", "--username", "operator")
    assert result.exit_code == 0, result.output
    assert await _can_sign_in(client, "operator", PASSWORD)


async def test_cli_revoke(app, client, world, database_url, tmp_path):
    token = world.tokens["officer"]
    cookie = await _signed_in_cookie(app, "officer")
    result = await _run_cli(database_url, tmp_path / "var", "revoke", "--username", "officer")
    assert result.exit_code == 0, result.output
    assert not await _token_works(client, token)
    assert not await _page_session_works(app, cookie)
    assert await _can_sign_in(client, "officer", PASSWORD)


async def test_cli_password(app, client, world, database_url, tmp_path):
    token = world.tokens["doctor"]
    result = await _run_cli(
        database_url,
        tmp_path / "var",
        "password",
        "--username",
        "doctor",
        "--password",
        NEW_PASSWORD,
    )
    assert result.exit_code == 0, result.output
    assert not await _token_works(client, token)
    assert not await _can_sign_in(client, "doctor", PASSWORD)
    assert await _can_sign_in(client, "doctor", NEW_PASSWORD)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("disable", "--username", "khong-co-ai"), "khong-co-ai"),
        (("disable", "--username", "admin"), "quản trị viên cuối cùng"),
        (("password", "--username", "doctor", "--password", "ngan"), "ít nhất 8"),
    ],
    ids=["unknown-user", "last-admin", "short-password"],
)
async def test_cli_refuses_with_exit_code_2(client, world, database_url, tmp_path, args, message):
    result = await _run_cli(database_url, tmp_path / "var", *args)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert await _token_works(client, world.tokens["admin"])


async def test_signing_in_again_ends_the_browsers_previous_session(app, world):
    async with _browser(app) as c:
        await page_sign_in(c, "operator")
        first = c.cookies["hotline_session"]
        await page_sign_in(c, "supervisor")
        me = await c.get("/api/v1/users/me")
        assert me.json()["username"] == "supervisor"
    assert not await _page_session_works(app, first)
