"""After `make run` loads the `recent` profile, every demo login opens on work to do.

Asked through the API as each demo user, with the password README.md prints.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from hotline.demo.load import DEMO_USERS, load_profile

pytestmark = pytest.mark.anyio
PASSWORDS = {username: password for username, _role, password, _unit in DEMO_USERS}


def _load(settings: Any, profile: str) -> None:
    # load_profile runs its own event loop: give it a thread of its own.
    t = threading.Thread(target=load_profile, args=(settings, profile))
    t.start()
    t.join()


async def _login(client: Any, username: str) -> dict[str, str]:
    r = await client.post(
        "/api/v1/auth/token", data={"username": username, "password": PASSWORDS[username]}
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def _open_cases(client: Any, headers: dict[str, str], *statuses: str) -> list[dict]:
    r = await client.get(
        "/api/v1/cases", params={"status": list(statuses), "limit": 200}, headers=headers
    )
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def test_recent_profile_gives_each_demo_login_open_work(settings, client) -> None:
    await asyncio.to_thread(_load, settings, "recent")

    officer = await _login(client, "canbo")
    inbox = await _open_cases(client, officer, "forwarded", "accepted")
    statuses = {c["status"] for c in inbox}
    assert statuses == {"forwarded", "accepted"}, statuses  # to accept, and in hand
    overdue = await _open_cases_filtered(client, officer, overdue="true")
    assert overdue, "the ward officer has no overdue forwarding"
    # The officer's inbox is their unit's: every case there is forwarded to that unit.
    me = (await client.get("/api/v1/users/me", headers=officer)).json()
    detail = await client.get(f"/api/v1/cases/{inbox[0]['code']}", headers=officer)
    assert me["unit_id"] in {a["unit_id"] for a in detail.json()["assignments"]}

    operator = await _login(client, "dtv01")
    me = (await client.get("/api/v1/users/me", headers=operator)).json()
    held = await _open_cases(client, operator, "in_progress")
    assert [c for c in held if c["assignee_id"] == me["id"]], "dtv01 holds no open case"
    waiting = await _open_cases(client, operator, "new")
    assert waiting, "no new case waits for an operator"

    doctor = await _login(client, "bacsi")
    consults = await _open_cases(client, doctor, "forwarded", "accepted")
    assert consults and {c["category"] for c in consults} == {"tu_van_suc_khoe"}

    supervisor = await _login(client, "truongca")
    urgent = await _open_cases_filtered(
        client, supervisor, urgent="true", status=["forwarded", "accepted"]
    )
    assert urgent, "no urgent forwarding is open"
    callbacks = await client.get("/api/v1/callbacks", params={"status": "done"}, headers=supervisor)
    assert callbacks.status_code == 200 and callbacks.json()


async def _open_cases_filtered(client: Any, headers: dict[str, str], **params: Any) -> list:
    params.setdefault("status", ["forwarded", "accepted"])
    r = await client.get("/api/v1/cases", params={**params, "limit": 200}, headers=headers)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])
