"""A service account for an outside PBX, made with the real CLI on the test database: its
token posts call records and nothing else (every other route, reads included, is 403),
it never signs in with a password, the call it posts names no call taker unless it says
one, and the ordinary account forms cannot make one."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from functools import partial
from typing import Any

import pytest

from tests.calls.test_calls import call_body
from tests.conftest import PASSWORD

pytestmark = pytest.mark.anyio


async def _cli(database_url: str, tmp_path: Any, *args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI in a process of its own, as an operator runs it beside the live app.
    Waited for in a thread: the test's app runs on this loop, and a loop blocked for the
    whole command would hold whatever transaction the app had open (the CLI then waited
    out its busy timeout on SQLite and failed with "database is locked")."""
    env = dict(os.environ)
    env.update(HOTLINE_DATABASE_URL=database_url, HOTLINE_VAR_DIR=str(tmp_path / "var"))
    run = partial(
        subprocess.run,
        [sys.executable, "-m", "hotline.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return await asyncio.to_thread(run)


async def _create(database_url: str, tmp_path: Any, name: str = "pbx-chi-nhanh") -> str:
    done = await _cli(
        database_url, tmp_path, "service-account", "create", "--username", name,
        "--full-name", "Tổng đài chi nhánh", "--days", "30",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout.strip().splitlines()[-1]


async def test_a_pbx_token_posts_call_records_and_nothing_else(
    database_url, client, world, tmp_path
) -> None:
    pbx = {"Authorization": f"Bearer {await _create(database_url, tmp_path)}"}
    r = await client.post("/api/v1/calls", json=call_body(), headers=pbx)
    assert r.status_code == 201, r.text
    # The PBX took no call itself: no call taker unless it names one.
    assert r.json()["operator_id"] is None
    me = await client.get("/api/v1/users/me", headers=world.auth("operator"))
    r = await client.post("/api/v1/calls", json=call_body(operator_id=me.json()["id"]), headers=pbx)
    assert r.status_code == 201 and r.json()["operator_id"] == me.json()["id"], r.text
    # The records are the supervisors' to read, not the PBX's.
    listed = await client.get("/api/v1/calls", headers=world.auth("supervisor"))
    assert len(listed.json()) == 2
    refused = {
        "calls": await client.get("/api/v1/calls", headers=pbx),
        "me": await client.get("/api/v1/users/me", headers=pbx),
        "cases": await client.get("/api/v1/cases", headers=pbx),
        "new case": await client.post("/api/v1/cases", json={}, headers=pbx),
        "roster": await client.get("/api/v1/roster", headers=pbx),
        "events": await client.get("/api/v1/events", headers=pbx),
        "callbacks": await client.get("/api/v1/callbacks", headers=pbx),
    }
    assert {k: r.status_code for k, r in refused.items()} == dict.fromkeys(refused, 403)
    assert "POST /api/v1/calls" in refused["me"].json()["detail"]
    # No password opens it (nobody knows it, and the role is refused at sign-in).
    r = await client.post(
        "/api/v1/auth/token", data={"username": "pbx-chi-nhanh", "password": PASSWORD}
    )
    assert r.status_code == 401


async def test_a_revoked_pbx_token_is_refused_and_a_new_one_works(
    app, database_url, client, world, tmp_path
) -> None:
    old = {"Authorization": f"Bearer {await _create(database_url, tmp_path)}"}
    done = await _cli(database_url, tmp_path, "user", "revoke", "--username", "pbx-chi-nhanh")
    assert done.returncode == 0, done.stderr
    app.state.hotline.tokens.clear()  # the CLI is another process: forget what was checked
    r = await client.post("/api/v1/calls", json=call_body(), headers=old)
    assert r.status_code == 401, r.text
    done = await _cli(
        database_url, tmp_path, "service-account", "token", "--username", "pbx-chi-nhanh"
    )
    assert done.returncode == 0, done.stderr
    new = {"Authorization": f"Bearer {done.stdout.strip().splitlines()[-1]}"}
    r = await client.post("/api/v1/calls", json=call_body(), headers=new)
    assert r.status_code == 201, r.text
    # A token only for a service account: a person's account is not one.
    done = await _cli(database_url, tmp_path, "service-account", "token", "--username", "operator")
    assert done.returncode == 2


async def test_the_account_forms_cannot_make_a_service_account(
    database_url, client, world, tmp_path
) -> None:
    r = await client.post(
        "/api/v1/users",
        json={"username": "pbx2", "password": "mat-khau-an-toan-1022", "role": "service"},
        headers=world.auth("admin"),
    )
    assert r.status_code == 422 and r.json()["field"] == "role", r.text
    done = await _cli(
        database_url, tmp_path, "user", "create", "--username", "pbx3", "--role", "service",
        "--password", "mat-khau-an-toan-1022",
    )  # fmt: skip
    assert done.returncode == 2 and "service-account create" in done.stdout + done.stderr
    done = await _cli(database_url, tmp_path, "service-account", "create", "--username", "Tổng đài")
    assert done.returncode == 2 and "username" in done.stdout + done.stderr


async def test_a_pbx_token_cannot_tell_which_numbers_the_hotline_knows(
    database_url, client, world, tmp_path
) -> None:
    """The answer to a PBX's post does not say whether its caller is a known citizen: the
    token would otherwise be a way to probe the contact directory one number at a time."""
    r = await client.post(
        "/api/v1/contacts",
        json={"name": "Nguyễn Văn Dân", "phones": ["0912345678"]},
        headers=world.auth("operator"),
    )
    assert r.status_code == 201, r.text
    pbx = {"Authorization": f"Bearer {await _create(database_url, tmp_path)}"}
    known = await client.post("/api/v1/calls", json=call_body(), headers=pbx)
    unknown = await client.post("/api/v1/calls", json=call_body(caller="0987654321"), headers=pbx)
    assert known.status_code == unknown.status_code == 201, known.text + unknown.text
    assert known.json()["contact_id"] is None and unknown.json()["contact_id"] is None
    # The call is still the citizen's for the staff who read call records.
    listed = await client.get("/api/v1/calls", headers=world.auth("supervisor"))
    assert r.json()["id"] in [c["contact_id"] for c in listed.json()]


async def test_a_pbx_posts_finished_calls_only(database_url, client, world, tmp_path) -> None:
    """A PBX's token may not end a call later (PATCH is not its route), so an answered call
    it posted without an end would stay in progress, never counted: refused, naming
    `ended_at`."""
    pbx = {"Authorization": f"Bearer {await _create(database_url, tmp_path)}"}
    r = await client.post("/api/v1/calls", json=call_body(ended_at=None), headers=pbx)
    assert r.status_code == 422 and r.json()["field"] == "ended_at", r.text
    # An unanswered call without an end, and a supervisor's call in progress, as before.
    r = await client.post(
        "/api/v1/calls",
        json=call_body(answered_at=None, ended_at=None, talk_seconds=0, outcome="abandoned_queue"),
        headers=pbx,
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        "/api/v1/calls", json=call_body(ended_at=None), headers=world.auth("supervisor")
    )
    assert r.status_code == 201, r.text
