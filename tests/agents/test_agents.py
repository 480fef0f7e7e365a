"""Operators' availability, their phones' SIP logins, callbacks, the console's call context,
and the queue figures in the summary report, all through the HTTP API."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import anyio
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from hotline.agents.models import Agent
from hotline.agents.service import digest_ha1
from hotline.auth.service import Actor
from hotline.cli import app as cli
from hotline.events import DomainEvent
from hotline.reports.export import to_csv
from hotline.web.sse import visible
from tests.calls.test_calls import call_body, record_call_for
from tests.conftest import live_events, new_case_body
from tests.staffing.test_roster_rules import _running_shift

pytestmark = pytest.mark.anyio


async def user_id(client: Any, world: Any, who: str) -> int:
    r = await client.get("/api/v1/users/me", headers=world.auth(who))
    return int(r.json()["id"])


async def on_shift(client: Any, world: Any, who: str = "operator") -> None:
    """Put `who` on the shift running now: an operator's "available" clocks them in, which
    needs a place now or a supervisor's leave (staffing/availability.py)."""
    day, shift = await _running_shift(client, world)
    r = await client.post(
        "/api/v1/roster",
        json={
            "day": str(day),
            "shift_id": shift["id"],
            "user_id": await user_id(client, world, who),
        },
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 201, r.text


async def test_admin_sets_a_phone_login_stored_as_digest_ha1(app, client, world):
    op = await user_id(client, world, "operator")
    r = await client.put(
        f"/api/v1/users/{op}/sip",
        json={"username": "op-101", "password": "dien-thoai-101"},
        headers=world.auth("admin"),
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"user_id": op, "sip_username": "op-101", "sip_uri": None}
    async with app.state.hotline.unit_of_work() as session:
        agent = await session.get(Agent, op)
        assert agent is not None
        realm = app.state.hotline.settings.sip_realm
        assert agent.sip_ha1 == digest_ha1("op-101", realm, "dien-thoai-101")
        assert "dien-thoai-101" not in (agent.sip_ha1 or "")


@pytest.mark.parametrize(
    ("who", "body", "status", "field"),
    [
        ("supervisor", {"username": "op-1", "password": "12345678"}, 403, None),
        ("admin", {"username": "có dấu", "password": "12345678"}, 422, "username"),
        ("admin", {"username": "op-1", "password": "short"}, 422, "password"),
        ("admin", {"username": "op-1", "password": "12345678", "uri": "tel:1"}, 422, "uri"),
    ],
)
async def test_bad_sip_login_is_refused_naming_the_field(client, world, who, body, status, field):
    op = await user_id(client, world, "operator")
    r = await client.put(f"/api/v1/users/{op}/sip", json=body, headers=world.auth(who))
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    if field:
        assert r.json()["field"] == field


async def test_a_sip_username_is_one_phone_only(client, world):
    op = await user_id(client, world, "operator")
    sup = await user_id(client, world, "supervisor")
    body = {"username": "shared", "password": "12345678"}
    r = await client.put(f"/api/v1/users/{op}/sip", json=body, headers=world.auth("admin"))
    assert r.status_code == 200
    r = await client.put(f"/api/v1/users/{sup}/sip", json=body, headers=world.auth("admin"))
    assert r.status_code == 409 and r.json()["field"] == "username"


async def test_operator_sets_status_supervisor_sees_everyone(app, client, world):
    await on_shift(client, world)
    async with live_events(app) as events:
        r = await client.put(
            "/api/v1/agents/me/status", json={"status": "available"}, headers=world.auth("operator")
        )
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "available"
        await app.state.hotline.feed.sync()
        event = events.get_nowait()
    assert event.kind == "agent.status" and event.data["status"] == "available"
    # A call answered today counts for the operator.
    await record_call_for(client, world, call_body())
    r = await client.get("/api/v1/agents", headers=world.auth("supervisor"))
    assert r.status_code == 200, r.text
    agents = {a["username"]: a for a in r.json()}
    assert agents["operator"]["status"] == "available"
    assert agents["doctor"]["status"] == "away"  # never said otherwise
    assert "officer" not in agents  # unit officers take no calls
    me = await client.get("/api/v1/agents/me", headers=world.auth("operator"))
    assert me.json()["status"] == "available" and me.json()["current_call_id"] is None


async def test_bad_status_and_non_call_takers_are_refused(client, world):
    r = await client.put(
        "/api/v1/agents/me/status", json={"status": "asleep"}, headers=world.auth("operator")
    )
    assert r.status_code == 422 and r.json()["field"] == "status"
    r = await client.put(
        "/api/v1/agents/me/status", json={"status": "available"}, headers=world.auth("officer")
    )
    assert r.status_code == 422
    r = await client.get("/api/v1/agents", headers=world.auth("operator"))
    assert r.status_code == 403


async def test_callbacks_in_queue_order_and_marked_done(client, world):
    auth = world.auth("operator")
    late = call_body(
        outcome="callback_requested",
        answered_at=None,
        started_at="2026-11-20T03:00:00Z",
        ended_at="2026-11-20T03:04:30Z",
    )
    early = call_body(
        outcome="callback_requested",
        answered_at=None,
        started_at="2026-11-20T02:00:00Z",
        caller="0987654321",
    )
    for body in (late, early):
        assert (await record_call_for(client, world, body)).status_code == 201
    r = await client.get("/api/v1/callbacks", headers=auth)
    assert [c["caller"] for c in r.json()] == ["+84987654321", "+84912345678"]
    first = r.json()[0]["id"]
    done = await client.post(f"/api/v1/callbacks/{first}/done", headers=auth)
    assert done.status_code == 200 and done.json()["status"] == "done"
    r = await client.get("/api/v1/callbacks", headers=auth)
    assert [c["caller"] for c in r.json()] == ["+84912345678"]
    r = await client.get("/api/v1/callbacks", params={"status": "later"}, headers=auth)
    assert r.status_code == 422 and r.json()["field"] == "status"
    assert (await client.get("/api/v1/callbacks", headers=world.auth("officer"))).status_code == 403
    assert (await client.post("/api/v1/callbacks/999/done", headers=auth)).status_code == 404


async def test_call_context_pops_the_contact_and_a_new_case_links_the_call(client, world):
    auth = world.auth("operator")
    old = await client.post("/api/v1/cases", json=new_case_body(), headers=auth)
    call = await record_call_for(client, world, call_body(caller="84912345678"))
    call_id = call.json()["id"]
    r = await client.get(f"/api/v1/calls/{call_id}/context", headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["contact"]["id"] == old.json()["contact_id"]
    assert r.json()["past_cases"] == [old.json()["code"]]
    new = await client.post(
        "/api/v1/cases", json={**new_case_body(), "call_id": call_id}, headers=auth
    )
    assert new.status_code == 201, new.text
    detail = await client.get(f"/api/v1/cases/{new.json()['code']}", headers=auth)
    assert [c["id"] for c in detail.json()["calls"]] == [call_id]
    bad = await client.post(
        "/api/v1/cases", json={**new_case_body(), "call_id": 424242}, headers=auth
    )
    assert bad.status_code == 404 and bad.json()["field"] == "call_id"
    r = await client.get("/api/v1/calls/424242/context", headers=auth)
    assert r.status_code == 404


def test_call_answered_reaches_only_the_answering_operators_console():
    event = DomainEvent(kind="call.answered", data={"operator_id": 7, "call_id": 1})
    assert visible(Actor(user_id=7, username="a", role="operator"), event)  # type: ignore[arg-type]
    assert not visible(Actor(user_id=8, username="b", role="supervisor"), event)  # type: ignore[arg-type]


async def test_summary_adds_queue_figures_per_branch_and_operator(client, world):
    bodies = [
        call_body(branch="operator", queue_wait_seconds=10, talk_seconds=100),
        call_body(branch="operator", queue_wait_seconds=50, talk_seconds=200),
        call_body(branch="doctor", outcome="abandoned_queue", answered_at=None, talk_seconds=0),
        call_body(branch="115", outcome="transferred_115", answered_at=None, talk_seconds=0),
    ]
    for body in bodies:
        r = await record_call_for(client, world, body)
        assert r.status_code == 201, r.text
    r = await client.get(
        "/api/v1/reports/summary",
        params={"from": "2026-11-20", "to": "2026-11-20"},
        headers=world.auth("supervisor"),
    )
    calls = r.json()["calls"]
    assert calls["by_branch"] == {"operator": 2, "doctor": 1, "115": 1}
    assert calls["abandonment_rate"] == round(1 / 3, 4)
    assert calls["service_level_20s"] == round(1 / 3, 4)
    assert calls["average_speed_of_answer_seconds"] == 30.0
    [op] = calls["by_operator"]
    assert (op["operator"], op["answered"], op["talk_seconds"]) == ("operator", 2, 300)
    assert op["average_handle_seconds"] == 150.0
    text = to_csv(r.json())
    assert "calls,Cuộc gọi,service_level_20s,Trả lời trong 20 giây,0.3333" in text
    assert "calls.by_operator.operator,operator,answered,Đã trả lời,2" in text


async def test_agent_rows_need_no_sip_login(app, client, world):
    await client.put(
        "/api/v1/agents/me/status", json={"status": "busy"}, headers=world.auth("doctor")
    )
    async with app.state.hotline.unit_of_work() as session:
        rows = (await session.scalars(select(Agent))).all()
    assert [(a.status.value, a.sip_username) for a in rows] == [("busy", None)]


def _sip_cli(database_url: str, var_dir: Path, *args: str) -> Any:
    env = {"HOTLINE_DATABASE_URL": database_url, "HOTLINE_VAR_DIR": str(var_dir)}
    return CliRunner().invoke(cli, ["user", "sip-password", *args], env=env)


async def test_cli_sets_the_sip_password(app, client, world, database_url, tmp_path):
    args = ("--username", "operator", "--sip-username", "op-7", "--password", "mat-khau-sip-7")
    result = await anyio.to_thread.run_sync(partial(_sip_cli, database_url, tmp_path, *args))
    assert result.exit_code == 0, result.output
    op = await user_id(client, world, "operator")
    async with app.state.hotline.unit_of_work() as session:
        agent = await session.get(Agent, op)
        assert agent is not None and agent.sip_username == "op-7"
        assert agent.sip_ha1 == digest_ha1("op-7", "hotline1022", "mat-khau-sip-7")
    bad = ("--username", "nobody", "--sip-username", "x", "--password", "12345678")
    result = await anyio.to_thread.run_sync(partial(_sip_cli, database_url, tmp_path, *bad))
    assert result.exit_code == 2 and "username" in result.output


async def test_two_missed_calls_in_a_row_set_the_operator_away(app, client, world):
    from hotline.agents.service import line_update

    op = await user_id(client, world, "operator")
    await on_shift(client, world)
    await client.put(
        "/api/v1/agents/me/status", json={"status": "available"}, headers=world.auth("operator")
    )
    for expected in ("available", "away"):
        async with app.state.hotline.unit_of_work() as session:
            agent = await line_update(session, user_id=op, missed=True)
            assert agent is not None and agent.status.value == expected
    # Setting themselves available again clears the count.
    r = await client.put(
        "/api/v1/agents/me/status", json={"status": "available"}, headers=world.auth("operator")
    )
    async with app.state.hotline.unit_of_work() as session:
        agent = await session.get(Agent, op)
        assert agent is not None and agent.missed == 0 and r.json()["status"] == "available"


async def test_board_sets_status_and_shows_the_caller_card_during_a_call(app, client, world):
    from hotline.agents.service import line_update
    from tests.auth.test_auth import _csrf_of
    from tests.conftest import PASSWORD

    await on_shift(client, world)
    page = await client.get("/login")
    await client.post(
        "/login",
        data={"username": "operator", "password": PASSWORD, "csrf": _csrf_of(page.text)},
    )
    board = await client.get("/")
    assert "Điện thoại" in board.text and '<b id="agent-status">Vắng mặt</b>' in board.text
    csrf = _csrf_of(board.text)
    r = await client.post(
        "/agent-status", data={"status": "available", "csrf": csrf}, follow_redirects=False
    )
    assert r.status_code == 303
    board = await client.get("/")
    assert '<b id="agent-status">Sẵn sàng</b>' in board.text and "on-call" not in board.text
    # The phone line puts a call from a known citizen through to this operator.
    old = await client.post("/api/v1/cases", json=new_case_body(), headers=world.auth("operator"))
    call = await record_call_for(client, world, call_body(caller="84912345678"))
    op = await user_id(client, world, "operator")
    async with app.state.hotline.unit_of_work() as session:
        from hotline.agents.models import AgentStatus

        await line_update(
            session, user_id=op, status=AgentStatus.BUSY, current_call_id=call.json()["id"]
        )
    board = await client.get("/")
    assert '<b id="agent-status">Bận</b>' in board.text
    assert "Đang nghe cuộc gọi từ +84912345678" in board.text
    assert f"<code>{old.json()['code']}</code>" in board.text
    # Without the form's token nothing changes.
    r = await client.post("/agent-status", data={"status": "away"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert '<b id="agent-status">Bận</b>' in (await client.get("/")).text


async def test_a_call_taker_who_never_set_a_status_reads_it_as_away(client, world):
    """The console's first poll of a new operator (a read-only transaction; on PostgreSQL
    writing the agent row there failed)."""
    me = await client.get("/api/v1/agents/me", headers=world.auth("doctor"))
    assert me.status_code == 200, me.text
    assert me.json()["status"] == "away" and me.json()["current_call_id"] is None
    # Still nothing stored: the first change makes the row.
    r = await client.put(
        "/api/v1/agents/me/status", json={"status": "available"}, headers=world.auth("doctor")
    )
    assert r.status_code == 200, r.text
    me = await client.get("/api/v1/agents/me", headers=world.auth("doctor"))
    assert me.json()["status"] == "available"
