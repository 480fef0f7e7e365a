"""The session-signing key: no public default, made once per var directory, kept private;
page-session cookies are only ever names of server-side sessions."""

from __future__ import annotations

import json
import os
import stat
from base64 import b64encode
from pathlib import Path
from typing import Any

import httpx
import pytest
from itsdangerous import TimestampSigner
from pydantic import ValidationError
from sqlalchemy import select

from hotline.app import app_from_env, create_app
from hotline.auth.models import User
from hotline.secret_key import SecretKeyError
from hotline.settings import PLACEHOLDER_SECRET, Settings, load_settings
from tests.auth.helpers import page_sign_in

pytestmark = pytest.mark.anyio


def _session_cookie(secret: str, data: dict[str, Any]) -> str:
    """A `hotline_session` cookie made exactly as Starlette's SessionMiddleware makes it."""
    payload = b64encode(json.dumps(data).encode("utf-8"))
    return TimestampSigner(secret).sign(payload).decode("utf-8")


async def _admin_id(app: Any) -> int:
    async with app.state.hotline.sessionmaker() as session:
        return int(await session.scalar(select(User.id).where(User.username == "admin")))


async def _refused(client: httpx.AsyncClient, cookie: str) -> None:
    client.cookies.set("hotline_session", cookie)
    board = await client.get("/", follow_redirects=False)
    assert board.status_code == 303
    assert board.headers["location"] == "/login"
    me = await client.get("/api/v1/users/me")
    assert me.status_code == 401, me.text


async def test_cookie_signed_with_the_old_placeholder_key_is_refused(app, client, world):
    cookie = _session_cookie(PLACEHOLDER_SECRET, {"user_id": await _admin_id(app)})
    await _refused(client, cookie)


async def test_cookie_naming_a_user_is_refused_even_when_signed_with_the_real_key(
    app, client, world, settings
):
    real_key = (settings.var_dir / "secret_key").read_text().strip()
    cookie = _session_cookie(real_key, {"user_id": await _admin_id(app)})
    await _refused(client, cookie)


async def test_key_file_is_made_private_on_first_start_and_reused(settings, world, client):
    key_file = settings.var_dir / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    assert len(key) >= 32

    # A browser signed in on this app stays signed in on a second app (a restart) on the
    # same var directory: the key was read, not made again.
    await page_sign_in(client, "operator")
    second = create_app(settings)
    try:
        transport = httpx.ASGITransport(app=second)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as other:
            other.cookies.set("hotline_session", client.cookies["hotline_session"])
            me = await other.get("/api/v1/users/me")
            assert me.status_code == 200, me.text
            assert me.json()["username"] == "operator"
    finally:
        await second.state.hotline.close()
    assert key_file.read_text().strip() == key


def test_each_var_directory_gets_its_own_random_key(tmp_path):
    create_app(Settings(var_dir=tmp_path / "a"))
    create_app(Settings(var_dir=tmp_path / "b"))
    a = (tmp_path / "a" / "secret_key").read_text()
    b = (tmp_path / "b" / "secret_key").read_text()
    assert a != b
    assert PLACEHOLDER_SECRET not in (a, b)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_key_file_readable_by_others_is_refused(tmp_path, mode):
    key_file = tmp_path / "secret_key"
    key_file.write_text("k" * 64)
    key_file.chmod(mode)
    with pytest.raises(SecretKeyError, match="chmod 600"):
        create_app(Settings(var_dir=tmp_path))


def test_key_file_too_short_is_refused(tmp_path):
    key_file = tmp_path / "secret_key"
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"short-key")
    os.close(fd)
    with pytest.raises(SecretKeyError, match="fewer than 32"):
        create_app(Settings(var_dir=tmp_path))


@pytest.mark.parametrize("key", ["", "x", "y" * 31, PLACEHOLDER_SECRET])
def test_short_or_placeholder_secret_key_is_refused(monkeypatch, tmp_path, key):
    if key == "":
        # Empty means "not given": the key file is used instead.
        assert load_settings(secret_key="").secret_key == ""
        return
    monkeypatch.setenv("HOTLINE_SECRET_KEY", key)
    with pytest.raises(ValidationError, match="HOTLINE_SECRET_KEY"):
        load_settings()
    with pytest.raises(ValidationError, match="HOTLINE_SECRET_KEY"):
        Settings(secret_key=key)


def test_short_key_in_secret_key_file_is_refused(monkeypatch, tmp_path):
    given = tmp_path / "given-key"
    given.write_text("too-short\n")
    monkeypatch.setenv("HOTLINE_SECRET_KEY_FILE", str(given))
    with pytest.raises(ValidationError, match="HOTLINE_SECRET_KEY"):
        load_settings()


def test_given_key_is_used_and_no_key_file_is_made(tmp_path):
    create_app(Settings(var_dir=tmp_path, secret_key="z" * 32))
    assert not (tmp_path / "secret_key").exists()


def test_environment_is_a_closed_set():
    for ok in ("development", "test", "production"):
        assert Settings(environment=ok).environment == ok
    with pytest.raises(ValidationError, match="environment"):
        Settings(environment="prod")


@pytest.mark.parametrize(("environment", "secure"), [("development", False), ("test", True)])
async def test_session_cookie_is_secure_outside_development(settings, world, environment, secure):
    app = create_app(settings.model_copy(update={"environment": environment}))
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://test") as c:
            r = await page_sign_in(c, "operator")
            cookie = r.headers["set-cookie"]
            assert "hotline_session=" in cookie
            assert ("secure" in cookie.lower().split("; ")) is secure
            assert "httponly" in cookie.lower()
    finally:
        await app.state.hotline.close()


def test_app_from_the_environment_starts_on_a_fresh_var_dir(monkeypatch, tmp_path: Path):
    """What `hotline serve` and `hotline run` build (uvicorn's factory)."""
    var = tmp_path / "fresh" / "var"
    monkeypatch.setenv("HOTLINE_VAR_DIR", str(var))
    monkeypatch.delenv("HOTLINE_SECRET_KEY", raising=False)
    monkeypatch.delenv("HOTLINE_SECRET_KEY_FILE", raising=False)
    app_from_env()
    assert stat.S_IMODE((var / "secret_key").stat().st_mode) == 0o600


def test_triage_models_are_signed_with_the_sites_own_key_not_an_empty_one(tmp_path):
    import hashlib
    import hmac

    from hotline.site import Site

    settings = Settings(database_url="sqlite://", var_dir=tmp_path / "var")
    site = Site.from_settings(settings)
    model_key = site.model_key  # made on first use, with the key file
    key = (tmp_path / "var" / "secret_key").read_text().strip()
    assert model_key == hmac.new(key.encode(), b"triage-model", hashlib.sha256).digest()
    assert model_key != hmac.new(b"", b"triage-model", hashlib.sha256).digest()
    other = Site.from_settings(Settings(database_url="sqlite://", var_dir=tmp_path / "other"))
    assert other.model_key != model_key
