"""The web chat's public routes, as the widget calls them from another site: sessions,
messages stored once, each visitor's own thread, CORS for the allowed origins only, the
embedding site's HMAC identity, throttles, and replies shown only once sent."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from typing import Any

import httpx
import pytest

from hotline.settings import Settings
from tests.cases.test_events_sse import _messages, _serve, _until
from tests.channels.zalo_helpers import run_jobs
from tests.conftest import new_case_body

pytestmark = pytest.mark.anyio

SITE = "https://phuongngocha.hanoi.gov.vn"
OTHER = "https://evil.example"
SECRET = "webchat-secret-5b7e1c9d2a"
SETTINGS = {
    "secret": SECRET,
    "allowed_origins": [SITE, "http://127.0.0.1:8123"],
    "title": "Hỏi đáp Tổng đài 1022",
    "welcome_text": "Xin chào! Bạn cần hỗ trợ gì?",
}


async def make_chat(client: Any, world: Any, **settings: Any) -> int:
    r = await client.post(
        "/api/v1/channels",
        json={
            "kind": "webchat",
            "name": "Web chat phường Ngọc Hà",
            "settings": SETTINGS | settings,
        },
        headers=world.auth("admin"),
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def hdr(token: str | None = None, origin: str = SITE) -> dict[str, str]:
    out = {"Origin": origin}
    if token:
        out["Authorization"] = f"Bearer {token}"
    return out


async def start(client: Any, channel: int, origin: str = SITE, **body: Any) -> httpx.Response:
    return await client.post(f"/chat/{channel}/session", json=body, headers=hdr(origin=origin))


async def token_of(client: Any, channel: int, **body: Any) -> str:
    r = await start(client, channel, **body)
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


async def say(client: Any, channel: int, token: str, text: str, cid: str) -> httpx.Response:
    return await client.post(
        f"/chat/{channel}/messages", json={"client_id": cid, "text": text}, headers=hdr(token)
    )


async def thread(client: Any, channel: int, token: str) -> dict[str, Any]:
    r = await client.get(f"/chat/{channel}/messages", headers=hdr(token))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def inbox(client: Any, world: Any, channel: int) -> list[dict[str, Any]]:
    r = await client.get(
        "/api/v1/conversations", params={"channel": channel}, headers=world.auth("operator")
    )
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def detail(client: Any, world: Any, conversation: int) -> dict[str, Any]:
    r = await client.get(f"/api/v1/conversations/{conversation}", headers=world.auth("operator"))
    assert r.status_code == 200, r.text
    return dict(r.json())


def proof(identifier: str, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), identifier.encode(), hashlib.sha256).hexdigest()


async def test_a_visitor_starts_writes_and_reads_their_thread(client, world):
    channel = await make_chat(client, world)
    r = await start(client, channel)
    assert r.status_code == 201
    assert r.headers["access-control-allow-origin"] == SITE
    body = r.json()
    assert (body["title"], body["welcome_text"]) == (SETTINGS["title"], SETTINGS["welcome_text"])
    token = body["token"]
    assert SECRET not in token
    r = await say(client, channel, token, "Đường trước nhà tôi bị ngập", "msg-0001-aaaa")
    assert r.status_code == 201, r.text
    assert r.headers["access-control-allow-origin"] == SITE
    assert r.json()["from"] == "visitor" and r.json()["client_id"] == "msg-0001-aaaa"
    got = await thread(client, channel, token)
    assert [(m["from"], m["text"]) for m in got["messages"]] == [
        ("visitor", "Đường trước nhà tôi bị ngập")
    ]
    # In the one inbox, as a conversation on the web chat channel.
    [conversation] = await inbox(client, world, channel)
    assert conversation["channel_kind"] == "webchat"
    messages = (await detail(client, world, conversation["id"]))["messages"]
    assert [m["text"] for m in messages] == ["Đường trước nhà tôi bị ngập"]


async def test_the_same_message_sent_twice_is_stored_once(client, world):
    channel = await make_chat(client, world)
    token = await token_of(client, channel)
    first = await say(client, channel, token, "Xin hỏi giờ làm việc", "dup-0000-0001")
    again = await say(client, channel, token, "Xin hỏi giờ làm việc", "dup-0000-0001")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    together = await asyncio.gather(
        *(say(client, channel, token, "Lần nữa", "dup-0000-0002") for _ in range(5))
    )
    assert sorted(r.status_code for r in together) == [200, 200, 200, 200, 201]
    assert len((await thread(client, channel, token))["messages"]) == 2
    [conversation] = await inbox(client, world, channel)
    assert len((await detail(client, world, conversation["id"]))["messages"]) == 2


async def test_a_visitor_sees_only_their_own_thread(client, world):
    channel = await make_chat(client, world)
    other_channel = await make_chat(client, world, secret="another-secret-8c1f4e2b")
    alice = await token_of(client, channel)
    bob = await token_of(client, channel)
    assert (await say(client, channel, alice, "Tin của Alice", "alice-00001")).status_code == 201
    assert (await thread(client, channel, bob))["messages"] == []
    # The same client id from another visitor is another message.
    assert (await say(client, channel, bob, "Tin của Bob", "alice-00001")).status_code == 201
    assert [m["text"] for m in (await thread(client, channel, bob))["messages"]] == ["Tin của Bob"]
    # A token of another channel's visitor: nothing of theirs here.
    stranger = await token_of(client, other_channel)
    r = await client.get(f"/chat/{channel}/messages", headers=hdr(stranger))
    assert r.status_code == 404
    r = await say(client, channel, stranger, "Xin chào", "stranger-001")
    assert r.status_code == 404
    # A forged or damaged token, or none.
    forged = alice[:-4] + ("AAAA" if not alice.endswith("AAAA") else "BBBB")
    for token in (forged, None, "wc1.e30.x"):
        r = await client.get(f"/chat/{channel}/messages", headers=hdr(token))
        assert r.status_code == 401, token
        assert r.headers["content-type"].startswith("application/problem+json")
    assert len(await inbox(client, world, channel)) == 2


async def test_another_origin_is_refused_and_gets_no_cors(client, world):
    channel = await make_chat(client, world)
    token = await token_of(client, channel)
    r = await start(client, channel, origin=OTHER)
    assert r.status_code == 403
    assert r.json()["field"] == "Origin"
    assert "access-control-allow-origin" not in r.headers
    r = await client.post(
        f"/chat/{channel}/messages",
        json={"client_id": "from-evil-01", "text": "xin chào"},
        headers=hdr(token, origin=OTHER),
    )
    assert r.status_code == 403
    r = await client.post(
        f"/chat/{channel}/messages",
        json={"client_id": "no-origin-01", "text": "xin chào"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 403
    assert await inbox(client, world, channel) == []
    # Preflight: the allowed origin gets its headers, another gets none.
    pre = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization",
    }
    r = await client.options(f"/chat/{channel}/messages", headers={"Origin": SITE, **pre})
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == SITE
    assert "Authorization" in r.headers["access-control-allow-headers"]
    r = await client.options(f"/chat/{channel}/messages", headers={"Origin": OTHER, **pre})
    assert r.status_code == 403 and "access-control-allow-origin" not in r.headers


async def test_only_the_two_writes_are_open_without_signing_in(client, world):
    channel = await make_chat(client, world)
    for path in (f"/chat/{channel}/other", f"/chat/{channel}/session/x", "/chat/x/session"):
        r = await client.post(path, json={}, headers={"Origin": SITE})
        # The guard's answer to anyone not signed in outside the API: the sign-in page.
        assert (r.status_code, r.headers.get("location")) == (303, "/login"), path
    # A disabled channel, or one of another kind, has no chat.
    zalo = await client.post(
        "/api/v1/channels",
        json={
            "kind": "zalo",
            "name": "Zalo",
            "settings": {
                "app_id": "1",
                "oa_id": "2",
                "secret_key": "s",
                "access_token": "a",
                "refresh_token": "r",
            },
        },
        headers=world.auth("admin"),
    )
    assert (await start(client, int(zalo.json()["id"]))).status_code == 404
    r = await client.post(f"/api/v1/channels/{channel}/disable", headers=world.auth("admin"))
    assert r.status_code == 200
    assert (await start(client, channel)).status_code == 404


async def test_an_identity_signed_by_the_site_links_the_citizens_contact(client, world):
    channel = await make_chat(client, world)
    case = await client.post("/api/v1/cases", json=new_case_body(), headers=world.auth("operator"))
    assert case.status_code == 201, case.text
    contact_id = case.json()["contact_id"]
    phone = "0912345678"
    token = await token_of(client, channel, identifier=phone, identity_hmac=proof(phone))
    assert (await say(client, channel, token, "Tôi hỏi tiếp về yêu cầu", "known-00001")).is_success
    [conversation] = await inbox(client, world, channel)
    assert conversation["contact_id"] == contact_id
    # The same citizen on another device: the same conversation, the same thread.
    again = await token_of(client, channel, identifier=phone, identity_hmac=proof(phone))
    assert (await say(client, channel, again, "Từ điện thoại khác", "known-00002")).is_success
    assert len(await inbox(client, world, channel)) == 1
    texts = [m["text"] for m in (await thread(client, channel, token))["messages"]]
    assert texts == ["Tôi hỏi tiếp về yêu cầu", "Từ điện thoại khác"]


async def test_a_wrong_identity_proof_is_refused(client, world):
    channel = await make_chat(client, world)
    for body in (
        {"identifier": "0912345678", "identity_hmac": proof("0912345679")},
        {"identifier": "0912345678", "identity_hmac": proof("0912345678", "wrong-secret")},
        {"identifier": "0912345678"},
        {"identity_hmac": proof("")},
    ):
        r = await start(client, channel, **body)
        assert r.status_code in (403, 422), (body, r.text)
        assert "token" not in r.json()
    r = await start(client, channel, identifier="a\nb", identity_hmac=proof("a\nb"))
    assert r.status_code == 422


async def test_replies_show_once_sent_by_the_worker(app, client, world):
    channel = await make_chat(client, world)
    token = await token_of(client, channel)
    await say(client, channel, token, "Cho tôi hỏi thủ tục", "ask-0000001")
    [conversation] = await inbox(client, world, channel)
    r = await client.post(
        f"/api/v1/conversations/{conversation['id']}/messages",
        json={"text": "Chào bạn, Tổng đài 1022 xin trả lời"},
        headers=world.auth("operator"),
    )
    assert r.status_code == 202 and r.json()["status"] == "queued"
    # Queued is not delivered: the visitor does not see it yet.
    assert [m["from"] for m in (await thread(client, channel, token))["messages"]] == ["visitor"]
    await run_jobs(app)
    shown = (await thread(client, channel, token))["messages"]
    assert [(m["from"], m["text"]) for m in shown] == [
        ("visitor", "Cho tôi hỏi thủ tục"),
        ("hotline", "Chào bạn, Tổng đài 1022 xin trả lời"),
    ]
    out = [m for m in (await detail(client, world, conversation["id"]))["messages"]]
    assert [m["status"] for m in out] == ["received", "sent"]
    # Nothing about the operator reaches the visitor.
    assert set(shown[1]) == {"id", "client_id", "from", "text", "at"}


async def test_sessions_and_messages_are_throttled(database_url, tmp_path, world):
    from hotline.app import create_app

    settings = Settings(
        database_url=database_url,
        var_dir=tmp_path / "var2",
        webchat_sessions_per_minute=3,
        webchat_messages_per_minute=2,
    )
    app = create_app(settings)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as c:
        channel = await make_chat(c, world)
        codes = [(await start(c, channel)).status_code for _ in range(4)]
        assert codes == [201, 201, 201, 429]
        r = await start(c, channel)
        assert r.headers["access-control-allow-origin"] == SITE  # the widget can read it
        assert r.headers["content-type"].startswith("application/problem+json")
    app = create_app(settings)  # a fresh count of sessions
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as c:
        token = await token_of(c, channel)
        codes = [
            (await say(c, channel, token, "Xin chào", f"rate-000{i}")).status_code for i in range(3)
        ]
        assert codes == [201, 201, 429]
        other = await token_of(c, channel)  # another visitor has their own count
        assert (await say(c, channel, other, "Xin chào", "rate-1000")).status_code == 201
    await app.state.hotline.close()


async def test_a_large_body_is_refused_before_it_is_read(client, world):
    channel = await make_chat(client, world)
    token = await token_of(client, channel)
    big = json.dumps({"client_id": "big-0000001", "text": "a" * 20_000})
    r = await client.post(
        f"/chat/{channel}/messages",
        content=big,
        headers={**hdr(token), "Content-Type": "application/json"},
    )
    assert r.status_code == 413
    r = await say(client, channel, token, "a" * 2001, "long-000001")
    assert r.status_code == 422 and r.json()["field"] == "text"


async def test_the_stream_carries_only_the_visitors_own_messages_and_resumes(app, world):
    async with (
        _serve(app) as base,
        httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(10)) as http,
        asyncio.timeout(60),
    ):
        channel = await make_chat(http, world)
        alice = await token_of(http, channel)
        bob = await token_of(http, channel)
        await say(http, channel, bob, "Bob hỏi trước", "bob-0000001")
        cursor = (await thread(http, channel, alice))["cursor"]
        async with http.stream("GET", f"/chat/{channel}/stream", headers=hdr(alice)) as r:
            assert r.status_code == 200
            assert r.headers["access-control-allow-origin"] == SITE
            messages = _messages(r.aiter_lines())
            ready = await _until(messages, "ready")
            await say(http, channel, bob, "Bob hỏi tiếp", "bob-0000002")
            await say(http, channel, alice, "Alice hỏi", "alice-000001")
            mine = await _until(messages, "message")
            assert json.loads(mine["data"])["text"] == "Alice hỏi"
            texts = {
                c["id"]: [m["text"] for m in (await detail(http, world, c["id"]))["messages"]]
                for c in await inbox(http, world, channel)
            }
            [alice_conv] = [i for i, t in texts.items() if t == ["Alice hỏi"]]
            [bob_conv] = [i for i in texts if i != alice_conv]
            for conv, text in ((bob_conv, "Trả lời Bob"), (alice_conv, "Trả lời Alice")):
                r2 = await http.post(
                    f"/api/v1/conversations/{conv}/messages",
                    json={"text": text},
                    headers=world.auth("operator"),
                )
                assert r2.status_code == 202
            await run_jobs(app)
            reply = await _until(messages, "message")
            assert json.loads(reply["data"])["text"] == "Trả lời Alice"
            assert json.loads(reply["data"])["from"] == "hotline"
        assert int(ready["id"]) >= cursor
        # Resumed from the cursor of a thread read before Alice wrote: what she missed (at
        # least; the cursor may be a little behind the read, and the widget drops a message
        # it has), never anyone else's.
        for token, last, own in (
            (alice, "Trả lời Alice", {"Alice hỏi", "Trả lời Alice"}),
            (bob, "Trả lời Bob", {"Bob hỏi trước", "Bob hỏi tiếp", "Trả lời Bob"}),
        ):
            resume = {**hdr(token), "Last-Event-ID": str(cursor)}
            async with http.stream("GET", f"/chat/{channel}/stream", headers=resume) as r:
                messages = _messages(r.aiter_lines())
                assert (await messages.__anext__())["event"] == "ready"
                got: list[str] = []
                while not got or got[-1] != last:
                    got.append(json.loads((await _until(messages, "message"))["data"])["text"])
            assert set(got) <= own and own - set(got) <= {"Bob hỏi trước"}, got
        r = await http.get(f"/chat/{channel}/stream", headers=hdr(alice, origin=OTHER))
        assert r.status_code == 403


async def test_a_stream_left_in_the_middle_of_its_replay_leaves_the_database_usable(
    database_url, tmp_path, world
):
    """A widget that goes away while its stream replays what it missed: the stream's
    reads are not cut off half-way (on SQLite one cut off kept its lock, and every later
    write and stream waited for it)."""
    from hotline.app import create_app

    settings = Settings(
        database_url=database_url,
        var_dir=tmp_path / "var2",
        site_province_code="01",
        webchat_messages_per_minute=1000,
    )
    app = create_app(settings)
    await app.state.hotline.start_events()
    try:
        async with (
            _serve(app) as base,
            httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(10)) as http,
            asyncio.timeout(120),
        ):
            channel = await make_chat(http, world)
            token = await token_of(http, channel)
            cursor = (await thread(http, channel, token))["cursor"]
            for i in range(120):
                r = await say(http, channel, token, f"Tin nhắn số {i}", f"many-{i:07d}")
                assert r.status_code == 201, r.text
            resume = {**hdr(token), "Last-Event-ID": str(cursor)}
            for attempt in range(6):
                # Gone after the first message, while the rest are being read.
                async with http.stream("GET", f"/chat/{channel}/stream", headers=resume) as r:
                    messages = _messages(r.aiter_lines())
                    assert (await messages.__anext__())["event"] == "ready"
                    await _until(messages, "message")
                r = await say(
                    http, channel, token, f"Còn đó không {attempt}", f"after-{attempt:05d}"
                )
                assert r.status_code == 201, r.text
            async with http.stream("GET", f"/chat/{channel}/stream", headers=hdr(token)) as r:
                messages = _messages(r.aiter_lines())
                assert (await messages.__anext__())["event"] == "ready"
    finally:
        await app.state.hotline.close()
