"""Sign-in: tokens, disabled accounts, the `hotline user create` command, hashes, login page."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from hotline.auth.models import ApiToken, User
from hotline.cli import app as cli
from hotline.db import utcnow
from tests.conftest import PASSWORD

pytestmark = pytest.mark.anyio


async def _token(client: Any, username: str, password: str) -> Any:
    return await client.post(
        "/api/v1/auth/token", data={"username": username, "password": password}
    )


def _assert_401_problem(r: Any) -> None:
    assert r.status_code == 401, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["www-authenticate"] == "Bearer"


async def test_token_with_wrong_password_is_401_problem(client, world):
    _assert_401_problem(await _token(client, "operator", PASSWORD + "x"))


async def test_token_for_unknown_user_is_401_with_the_same_message(client, world):
    wrong_password = await _token(client, "operator", "sai-mat-khau-123")
    no_user = await _token(client, "khong-co-ai", "sai-mat-khau-123")
    _assert_401_problem(no_user)
    assert no_user.json()["detail"] == wrong_password.json()["detail"]


async def test_username_is_case_insensitive(client, world):
    r = await _token(client, " Operator ", PASSWORD)
    assert r.status_code == 200, r.text


async def _set_active(app: Any, username: str, active: bool) -> None:
    async with app.state.hotline.unit_of_work() as session:
        await session.execute(update(User).where(User.username == username).values(active=active))


async def test_disabled_user_token_is_refused_and_cannot_sign_in(client, world, app):
    await _set_active(app, "operator", False)
    r = await client.get("/api/v1/users/me", headers=world.auth("operator"))
    _assert_401_problem(r)
    _assert_401_problem(await _token(client, "operator", PASSWORD))


async def test_expired_token_is_refused(client, world, app):
    async with app.state.hotline.unit_of_work() as session:
        await session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    _assert_401_problem(await client.get("/api/v1/users/me", headers=world.auth("operator")))


async def test_passwords_are_stored_as_argon2_hashes(client, world, app):
    async with app.state.hotline.sessionmaker() as session:
        hashes = (await session.scalars(select(User.password_hash))).all()
    assert len(hashes) == 7
    assert all(h.startswith("$argon2") for h in hashes)
    assert not any(PASSWORD in h for h in hashes)


async def test_api_tokens_are_stored_only_as_hashes(client, world, app):
    async with app.state.hotline.sessionmaker() as session:
        stored = set((await session.scalars(select(ApiToken.token_hash))).all())
    for token in world.tokens.values():
        assert token not in stored
        assert not any(token in s for s in stored)
        assert hashlib.sha256(token.encode()).hexdigest() in stored


def _cli(database_url: str, var_dir: Path, *args: str) -> Any:
    env = {"HOTLINE_DATABASE_URL": database_url, "HOTLINE_VAR_DIR": str(var_dir)}
    return CliRunner().invoke(cli, ["user", "create", *args], env=env)


async def _run_cli(database_url: str, var_dir: Path, *args: str) -> Any:
    # The command runs its own event loop (asyncio.run): give it a thread of its own.
    return await anyio.to_thread.run_sync(partial(_cli, database_url, var_dir, *args))


async def test_cli_creates_user_who_can_sign_in(client, world, database_url, tmp_path):
    result = await _run_cli(
        database_url,
        tmp_path / "var",
        "--username",
        "tongdaivien2",
        "--role",
        "operator",
        "--password",
        "mat-khau-moi-1022",
        "--full-name",
        "Trần Văn Bình",
    )
    assert result.exit_code == 0, result.output
    r = await _token(client, "tongdaivien2", "mat-khau-moi-1022")
    assert r.status_code == 200, r.text
    me = await client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}
    )
    assert me.json()["role"] == "operator"
    assert me.json()["full_name"] == "Trần Văn Bình"


async def test_cli_creates_unit_officer_in_named_unit(client, world, database_url, tmp_path):
    result = await _run_cli(
        database_url,
        tmp_path / "var",
        *("--username", "canbo2", "--role", "unit_officer", "--password", "mat-khau-moi-1022"),
        *("--unit", "UB-00004"),
    )
    assert result.exit_code == 0, result.output
    r = await _token(client, "canbo2", "mat-khau-moi-1022")
    me = await client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}
    )
    assert me.json()["unit_id"] == world.units["ward_a"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--role", "boss"), "Vai trò không hợp lệ"),
        (("--role", "unit_officer"), "phải thuộc một đơn vị"),
        (("--role", "doctor", "--unit", "KHONG-CO"), "KHONG-CO"),
        (("--role", "operator", "--username", "operator"), "đã tồn tại"),
    ],
    ids=["bad-role", "officer-without-unit", "unknown-unit", "taken-username"],
)
async def test_cli_refuses_bad_accounts_with_exit_code_2(
    client, world, app, database_url, tmp_path, args, message
):
    base = {"--username": "nguoimoi", "--password": "mat-khau-moi-1022"}
    overrides = dict(zip(args[::2], args[1::2], strict=True))
    argv = [x for kv in {**base, **overrides}.items() for x in kv]
    result = await _run_cli(database_url, tmp_path / "var", *argv)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    async with app.state.hotline.sessionmaker() as session:
        assert await session.scalar(select(User.id).where(User.username == "nguoimoi")) is None


def _csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


async def test_login_page_shows_sign_in_form(client):
    r = await client.get("/login")
    assert r.status_code == 200
    assert "Đăng nhập" in r.text
    assert _csrf_of(r.text)


async def test_login_with_wrong_password_shows_error_by_password_field(client, world):
    page = await client.get("/login")
    r = await client.post(
        "/login",
        data={"username": "operator", "password": "sai-mat-khau", "csrf": _csrf_of(page.text)},
    )
    assert r.status_code == 400
    error = re.search(r'<p class="error" id="password-error">([^<]*)</p>', r.text)
    assert error and "Sai tên đăng nhập hoặc mật khẩu" in error.group(1)
    assert 'value="operator"' in r.text
    assert (await client.get("/", follow_redirects=False)).status_code == 303


async def test_login_without_csrf_token_is_refused_even_with_right_password(client, world):
    await client.get("/login")
    r = await client.post("/login", data={"username": "operator", "password": PASSWORD})
    assert r.status_code == 400
    assert "Phiên làm việc đã hết hạn" in r.text
    board = await client.get("/", follow_redirects=False)
    assert board.status_code == 303
    assert board.headers["location"] == "/login"


async def test_login_with_right_password_opens_the_board(client, world):
    page = await client.get("/login")
    r = await client.post(
        "/login",
        data={"username": "operator", "password": PASSWORD, "csrf": _csrf_of(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/"
    board = await client.get("/")
    assert board.status_code == 200
    me = await client.get("/api/v1/users/me")
    assert me.json()["username"] == "operator"


async def test_disabled_user_is_signed_out_of_the_pages(client, world, app):
    page = await client.get("/login")
    r = await client.post(
        "/login",
        data={"username": "operator", "password": PASSWORD, "csrf": _csrf_of(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    await _set_active(app, "operator", False)

    board = await client.get("/", follow_redirects=False)

    assert board.status_code == 303
    assert board.headers["location"] == "/login"
    _assert_401_problem(await client.get("/api/v1/users/me"))


async def test_repeated_wrong_passwords_are_throttled_even_for_the_right_one(client, world):
    from tests.conftest import PASSWORD

    for _ in range(10):
        r = await client.post(
            "/api/v1/auth/token", data={"username": "operator", "password": "sai-mat-khau"}
        )
        assert r.status_code == 401
    r = await client.post("/api/v1/auth/token", data={"username": "operator", "password": PASSWORD})
    assert r.status_code == 429
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == "username"
    # Another account from the same address is not locked out.
    ok = await client.post("/api/v1/auth/token", data={"username": "admin", "password": PASSWORD})
    assert ok.status_code == 200
