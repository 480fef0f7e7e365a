"""The administrators' channel API: settings checked per kind, secrets written and never
read back (API answers, error pages, logs, the audit trail)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from hotline.auth.models import AdminChange
from tests.channels.zalo_helpers import ACCESS, REFRESH, SECRET, make_channel, zalo_settings

pytestmark = pytest.mark.anyio


async def test_missing_setting_is_a_problem_naming_the_field(app, client, world):
    settings = zalo_settings("http://127.0.0.1:9")
    del settings["secret_key"]
    r = await client.post(
        "/api/v1/channels",
        json={"kind": "zalo", "name": "OA", "settings": settings},
        headers=world.auth("admin"),
    )
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "settings.secret_key" in r.text
    r = await client.post(
        "/api/v1/channels",
        json={"kind": "telegram", "name": "OA", "settings": {}},
        headers=world.auth("admin"),
    )
    assert r.status_code == 422 and "kind" in r.text


async def test_only_administrators_manage_channels(app, client, world):
    for who in ("supervisor", "operator", "officer"):
        r = await client.get("/api/v1/channels", headers=world.auth(who))
        assert r.status_code == 403, who


async def test_secrets_never_come_back_from_api_errors_logs_or_audit(
    app, client, world, caplog, capsys
):
    caplog.set_level(logging.DEBUG, logger="hotline")
    channel = await make_channel(client, world, "http://127.0.0.1:9")
    answers = []
    answers.append(await client.get("/api/v1/channels", headers=world.auth("admin")))
    answers.append(await client.get(f"/api/v1/channels/{channel}", headers=world.auth("admin")))
    one = answers[-1].json()
    assert one["secrets_set"] == ["access_token", "refresh_token", "secret_key"]
    assert one["settings"]["app_id"] and "secret_key" not in one["settings"]
    patched = await client.patch(
        f"/api/v1/channels/{channel}",
        json={"name": "Zalo OA mới", "settings": {"secret_key": "new-secret-1a2b3c"}},
        headers=world.auth("admin"),
    )
    assert patched.status_code == 200
    answers.append(patched)
    # Error answers about a channel: a bad setting, a bad kind, a wrong method on its hook.
    answers.append(
        await client.patch(
            f"/api/v1/channels/{channel}",
            json={"settings": {"app_id": None}},
            headers=world.auth("admin"),
        )
    )
    answers.append(await client.get(f"/hooks/{channel}"))
    answers.append(await client.post(f"/hooks/{channel}", content=b"{}"))
    assert [a.status_code for a in answers[-3:]] == [422, 405, 403]
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        trail = (
            await session.scalars(select(AdminChange).where(AdminChange.kind == "channel"))
        ).all()
    assert [t.action for t in trail] == ["create", "update"]
    assert trail[1].after["secrets_replaced"] == ["secret_key"]
    out = capsys.readouterr()
    haystack = "\n".join(
        [a.text for a in answers]
        + [str(t.before) + str(t.after) for t in trail]
        + [caplog.text, out.out, out.err]
    )
    for secret in (SECRET, ACCESS + "", REFRESH, "new-secret-1a2b3c"):
        if len(secret) < 8:
            # tok-1 / ref-1 are too short to grep on their own: look for them as values.
            assert f'"{secret}"' not in haystack and f"'{secret}'" not in haystack
        else:
            assert secret not in haystack
