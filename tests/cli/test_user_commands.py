"""The `hotline user` commands the README documents, run as the real CLI on the test
database (SQLite, and PostgreSQL when configured): each loads every model it touches."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.anyio

NEW_PASSWORD = "Mat-khau-moi-2026!"


def _cli(database_url: str, tmp_path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.update(HOTLINE_DATABASE_URL=database_url, HOTLINE_VAR_DIR=str(tmp_path / "var"))
    return subprocess.run(
        [sys.executable, "-m", "hotline.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_user_password_disable_and_enable_run_on_the_database(
    database_url, client, world, tmp_path
):
    done = _cli(
        database_url, tmp_path, "user", "password", "--username", "operator",
        "--password", NEW_PASSWORD,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    r = await client.post(
        "/api/v1/auth/token", data={"username": "operator", "password": NEW_PASSWORD}
    )
    assert r.status_code == 200, r.text
    for command in ("disable", "enable", "revoke"):
        done = _cli(database_url, tmp_path, "user", command, "--username", "operator")
        assert done.returncode == 0, (command, done.stderr)
    done = _cli(database_url, tmp_path, "triage", "models")
    assert done.returncode == 0, done.stderr
