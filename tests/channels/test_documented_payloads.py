"""The providers' published example payloads (payloads/README.md), replayed byte for byte:
read by the adapters, verified only with the signature made over exactly those bytes, and
through `/hooks/{id}` stored once with a good signature and not at all with a bad one."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from hotline.channels.adapter import InboundKind
from hotline.channels.messenger import ADAPTER as MESSENGER_ADAPTER
from hotline.channels.models import Message
from hotline.channels.zalo import ADAPTER as ZALO_ADAPTER
from hotline.jobs.models import Job
from tests.channels.helpers import MESSENGER, VIBER, signature_headers
from tests.channels.zalo_helpers import SECRET, zalo_settings

pytestmark = pytest.mark.anyio

ZALO = Path(__file__).parent / "payloads" / "zalo" / "documented"
FB = Path(__file__).parent / "payloads" / "messenger" / "documented"
SAMPLE_USER = "4339761418830368433"
# name: (kind, citizen, text, [(attachment kind, url, name)])
ZALO_EXPECTED: dict[str, tuple[InboundKind, str, str, list[tuple[str, str, str | None]]]] = {
    "user_send_text.a4b": (InboundKind.MESSAGE, "6142494823xxxxxxxx", "Chào A4B", []),
    "user_send_text.clevertap": (InboundKind.MESSAGE, "246845883529197922", "message", []),
    "user_send_text": (InboundKind.MESSAGE, SAMPLE_USER, "This is testing message", []),
    "user_send_image": (
        InboundKind.MESSAGE,
        SAMPLE_USER,
        "This is testing message",
        [("image", "url_to_thumbnail", None)],
    ),
    "user_send_gif": (
        InboundKind.MESSAGE,
        SAMPLE_USER,
        "This is testing message",
        [("gif", "url_to_thumbnail", None)],
    ),
    "user_send_audio": (
        InboundKind.MESSAGE,
        SAMPLE_USER,
        "This is testing message",
        [("audio", "url_to_audio_file", None)],
    ),
    "user_send_video": (
        InboundKind.MESSAGE,
        SAMPLE_USER,
        "This is testing message",
        [("video", "url_to_video_file", None)],
    ),
    "user_send_file": (
        InboundKind.MESSAGE,
        SAMPLE_USER,
        "",
        [("file", "link_to_download_file", "file_name")],
    ),
    "user_send_link": (
        InboundKind.MESSAGE,
        SAMPLE_USER,
        "This is testing message",
        [("link", "link", None)],
    ),
    "user_send_sticker": (
        InboundKind.MESSAGE,
        SAMPLE_USER,
        "This is testing message",
        [("sticker", "link", None)],
    ),
    "oa_send_text": (InboundKind.ECHO, SAMPLE_USER, "This is testing message", []),
    "oa_send_image": (
        InboundKind.ECHO,
        SAMPLE_USER,
        "This is testing message",
        [("image", "url_to_thumbnail", None)],
    ),
    "oa_send_gif": (
        InboundKind.ECHO,
        SAMPLE_USER,
        "This is testing message",
        [("gif", "url_to_gif", None)],
    ),
    "oa_send_file": (
        InboundKind.ECHO,
        SAMPLE_USER,
        "",
        [("file", "link_to_download_file", "file_name")],
    ),
    "oa_send_list": (
        InboundKind.ECHO,
        SAMPLE_USER,
        "This is testing message",
        [("link", "link", None)] * 3,
    ),
}
# Zalo's follow example (payloads/README.md): no message, the citizen under `follower`.
ZALO_FOLLOW = "follow.clevertap"
FOLLOWER = "24684588352919792"


def zalo_body(name: str) -> bytes:
    return (ZALO / f"{name}.json").read_bytes()


def settings_of(body: bytes) -> dict[str, Any]:
    """A channel whose app is the one the example names."""
    return zalo_settings("http://zalo.invalid", app_id=json.loads(body)["app_id"])


def zalo_signature(settings: dict[str, Any], body: bytes, secret: str = SECRET) -> dict[str, str]:
    timestamp = json.loads(body)["timestamp"]
    mac = hashlib.sha256(
        settings["app_id"].encode() + body + timestamp.encode() + secret.encode()
    ).hexdigest()
    return {"X-ZEvent-Signature": f"mac={mac}", "Content-Type": "application/json"}


def test_every_documented_zalo_example_is_kept() -> None:
    assert sorted(p.stem for p in ZALO.glob("*.json")) == sorted([*ZALO_EXPECTED, ZALO_FOLLOW])
    # The published request's length: these are the bytes that were sent.
    assert len(zalo_body("user_send_text.a4b")) == 269


@pytest.mark.parametrize("name", sorted(ZALO_EXPECTED))
def test_a_documented_zalo_example_is_read(name: str) -> None:
    body = zalo_body(name)
    kind, user, text, files = ZALO_EXPECTED[name]
    [event] = ZALO_ADAPTER.read(settings_of(body), body)
    assert (event.kind, event.user_id, event.text) == (kind, user, text)
    assert [(a.kind, a.url, a.name) for a in event.attachments] == files
    document = json.loads(body)
    assert event.event_id == document["message"]["msg_id"]
    assert event.sent_at is not None
    assert int(event.sent_at.timestamp() * 1000) == int(document["timestamp"])


@pytest.mark.parametrize("name", sorted(ZALO_EXPECTED))
def test_a_documented_zalo_example_verifies_only_with_its_own_signature(name: str) -> None:
    body = zalo_body(name)
    settings = settings_of(body)
    good = zalo_signature(settings, body)
    assert ZALO_ADAPTER.verify(settings, good, body)
    assert not ZALO_ADAPTER.verify(settings, zalo_signature(settings, body, "other"), body)
    assert not ZALO_ADAPTER.verify(settings, good, body.replace(b'"', b'"', 1) + b" ")
    # Re-serialised (escaped, spaced), the same document is other bytes: it must not verify.
    again = json.dumps(json.loads(body)).encode()
    assert again != body and not ZALO_ADAPTER.verify(settings, good, again)


async def _count(app: Any, model: Any) -> int:
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize("name", sorted(n for n, e in ZALO_EXPECTED.items() if e[0] == "message"))
async def test_a_documented_zalo_message_replayed_through_the_hook(
    app, client, world, name: str
) -> None:
    body = zalo_body(name)
    settings = settings_of(body)
    r = await client.post(
        "/api/v1/channels",
        json={"kind": "zalo", "name": "Zalo OA", "settings": settings},
        headers=world.auth("admin"),
    )
    assert r.status_code == 201, r.text
    channel = int(r.json()["id"])
    bad = zalo_signature(settings, body, "not-the-secret")
    r = await client.post(f"/hooks/{channel}", content=body, headers=bad)
    assert r.status_code == 403
    assert await _count(app, Message) == 0 and await _count(app, Job) == 0
    for _ in range(2):
        r = await client.post(
            f"/hooks/{channel}", content=body, headers=zalo_signature(settings, body)
        )
        assert r.status_code == 200, r.text
    r = await client.get(
        "/api/v1/conversations", params={"channel": channel}, headers=world.auth("operator")
    )
    [conversation] = r.json()["items"]
    assert conversation["external_user_id"] == ZALO_EXPECTED[name][1]
    r = await client.get(
        f"/api/v1/conversations/{conversation['id']}", headers=world.auth("operator")
    )
    [message] = r.json()["messages"]
    assert message["text"] == ZALO_EXPECTED[name][2]
    expected = [(k, u, n) for k, u, n in ZALO_EXPECTED[name][3]]
    assert [(a["kind"], a["url"], a["name"]) for a in message["attachments"]] == expected


def test_the_documented_zalo_follow_is_read_and_verified() -> None:
    body = zalo_body(ZALO_FOLLOW)
    settings = settings_of(body)
    [event] = ZALO_ADAPTER.read(settings, body)
    assert (event.kind, event.user_id) == (InboundKind.FOLLOW, FOLLOWER)
    assert event.sent_at is not None
    assert int(event.sent_at.timestamp() * 1000) == int(json.loads(body)["timestamp"])
    good = zalo_signature(settings, body)
    assert ZALO_ADAPTER.verify(settings, good, body)
    assert not ZALO_ADAPTER.verify(settings, zalo_signature(settings, body, "other"), body)
    assert not ZALO_ADAPTER.verify(settings, good, json.dumps(json.loads(body)).encode())


async def test_the_documented_zalo_follow_replayed_through_the_hook(app, client, world) -> None:
    body = zalo_body(ZALO_FOLLOW)
    settings = settings_of(body)
    r = await client.post(
        "/api/v1/channels",
        json={"kind": "zalo", "name": "Zalo OA", "settings": settings},
        headers=world.auth("admin"),
    )
    assert r.status_code == 201, r.text
    channel = int(r.json()["id"])
    bad = zalo_signature(settings, body, "not-the-secret")
    assert (await client.post(f"/hooks/{channel}", content=body, headers=bad)).status_code == 403
    # A follower who never wrote is not made a contact: acknowledged, nothing stored.
    good = zalo_signature(settings, body)
    assert (await client.post(f"/hooks/{channel}", content=body, headers=good)).status_code == 200
    assert await _count(app, Message) == 0
    # Once that citizen has written (a message of ours, from the example's follower), the
    # same documented follow is recorded on their conversation, once.
    document = json.loads(zalo_body("user_send_text.clevertap"))
    document["sender"]["id"] = FOLLOWER
    document["app_id"] = settings["app_id"]
    wrote = json.dumps(document).encode()
    r = await client.post(
        f"/hooks/{channel}", content=wrote, headers=zalo_signature(settings, wrote)
    )
    assert r.status_code == 200, r.text
    assert (await client.post(f"/hooks/{channel}", content=body, headers=bad)).status_code == 403
    for _ in range(2):
        r = await client.post(f"/hooks/{channel}", content=body, headers=good)
        assert r.status_code == 200, r.text
    r = await client.get(
        "/api/v1/conversations", params={"channel": channel}, headers=world.auth("operator")
    )
    [conversation] = r.json()["items"]
    assert conversation["external_user_id"] == FOLLOWER
    r = await client.get(
        f"/api/v1/conversations/{conversation['id']}", headers=world.auth("operator")
    )
    assert r.json()["following"] is True
    assert sorted(m["kind"] for m in r.json()["messages"]) == ["follow", "text"]


def test_the_documented_messenger_example_is_read_and_verified() -> None:
    body = (FB / "image_attachment.json").read_bytes()
    headers = signature_headers("messenger", MESSENGER, body)
    assert MESSENGER_ADAPTER.verify(MESSENGER, headers, body)
    assert not MESSENGER_ADAPTER.verify({**MESSENGER, "app_secret": "other"}, headers, body)
    assert not MESSENGER_ADAPTER.verify(MESSENGER, headers, json.dumps(json.loads(body)).encode())
    [event] = MESSENGER_ADAPTER.read(MESSENGER, body)
    assert (event.kind, event.event_id, event.user_id) == (
        InboundKind.MESSAGE,
        "mid.1458696618141:b4ef9d19ec21086067",
        "USER_ID",
    )
    assert [(a.kind, a.url) for a in event.attachments] == [("image", "IMAGE_URL")]


async def test_the_documented_messenger_example_replayed_through_the_hook(
    app, client, world
) -> None:
    body = (FB / "image_attachment.json").read_bytes()
    r = await client.post(
        "/api/v1/channels",
        json={"kind": "messenger", "name": "Trang 1022", "settings": MESSENGER},
        headers=world.auth("admin"),
    )
    assert r.status_code == 201, r.text
    channel = int(r.json()["id"])
    forged = signature_headers("messenger", {**MESSENGER, "app_secret": "x"}, body)
    assert (await client.post(f"/hooks/{channel}", content=body, headers=forged)).status_code in (
        401,
        403,
    )
    assert await _count(app, Message) == 0
    headers = signature_headers("messenger", MESSENGER, body)
    for _ in range(2):
        r = await client.post(f"/hooks/{channel}", content=body, headers=headers)
        assert r.status_code == 200, r.text
    assert await _count(app, Message) == 1
    # "IMAGE_URL" is no link: nothing to fetch.
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        kinds = (await session.scalars(select(Job.kind))).all()
    assert "attachments_fetch_message_files" not in kinds


VIBER_DOCUMENTED = Path(__file__).parent / "payloads" / "viber" / "documented"
VIBER_USER = "jc9HsWTZ2Yf2NkRZ8KcNug=="


def test_every_documented_viber_example_is_kept() -> None:
    names = sorted(p.stem for p in VIBER_DOCUMENTED.glob("*.json"))
    callbacks = ["message", "subscribed", "unsubscribed", "conversation_started"]
    receipts = ["delivered", "seen", "failed"]
    assert names == sorted([*callbacks, *receipts])


async def test_the_documented_viber_callbacks_replayed_through_the_hook(
    app, client, world, provider
) -> None:
    """Each of Viber's documented callbacks, in the order a citizen's life with the bot
    gives them: refused unsigned or forged (nothing stored), answered 200 twice when signed;
    the message is stored once with its place, the subscription events once each."""
    from tests.channels.test_provider_hooks import make_channel as make_provider_channel

    channel = await make_provider_channel(app, client, world, "viber", provider)
    order = ["conversation_started", "message", "delivered", "seen", "failed"]
    order += ["unsubscribed", "subscribed"]
    for name in order:
        body = (VIBER_DOCUMENTED / f"{name}.json").read_bytes()
        forged = signature_headers("viber", {**VIBER, "auth_token": "guessed"}, body)
        before = await _count(app, Message)
        assert (
            await client.post(f"/hooks/{channel}", content=body, headers=forged)
        ).status_code in (
            401,
            403,
        )
        assert await _count(app, Message) == before
        for _ in range(2):
            r = await client.post(
                f"/hooks/{channel}", content=body, headers=signature_headers("viber", VIBER, body)
            )
            assert r.status_code == 200, (name, r.text)
    r = await client.get(
        "/api/v1/conversations", params={"channel": channel}, headers=world.auth("operator")
    )
    [conversation] = r.json()["items"]
    assert conversation["external_user_id"] == VIBER_USER
    r = await client.get(
        f"/api/v1/conversations/{conversation['id']}", headers=world.auth("operator")
    )
    thread = r.json()
    assert thread["following"] is True  # unsubscribed, then subscribed again
    [message, unfollow, follow] = thread["messages"]
    assert (message["kind"], message["text"]) == ("location", "a message to the service")
    assert (message["lat"], message["long"]) == (50.76891, 6.11499)
    # A text's `media` is no file: nothing to fetch.
    assert message["attachments"] == []
    assert (unfollow["kind"], follow["kind"]) == ("unfollow", "follow")


async def test_a_viber_location_and_contact_through_the_hook_give_the_case_its_place(
    app, client, world, provider
) -> None:
    """Viber's documented message callback carrying the data model's location and contact
    (payloads/README.md), each in a channel of its own (Viber's examples share one token):
    the place becomes the message's coordinates and, when a case is opened from the
    conversation, the case's place; the contact becomes the text."""
    from tests.channels.helpers import payload
    from tests.channels.test_provider_hooks import make_channel as make_provider_channel

    found = {}
    for name in ("message_location", "message_contact"):
        channel = await make_provider_channel(app, client, world, "viber", provider)
        body = payload("viber", name)
        r = await client.post(
            f"/hooks/{channel}", content=body, headers=signature_headers("viber", VIBER, body)
        )
        assert r.status_code == 200, r.text
        r = await client.get(
            "/api/v1/conversations", params={"channel": channel}, headers=world.auth("operator")
        )
        [conversation] = r.json()["items"]
        r = await client.get(
            f"/api/v1/conversations/{conversation['id']}", headers=world.auth("operator")
        )
        [found[name]] = r.json()["messages"]
        found[name]["conversation_id"] = conversation["id"]
    place, contact = found["message_location"], found["message_contact"]
    assert (place["kind"], place["lat"], place["long"]) == ("location", 32.0853, 34.7818)
    assert (contact["kind"], contact["text"]) == ("text", "John Doe +972501234567")
    r = await client.post(
        f"/api/v1/conversations/{place['conversation_id']}/case",
        # A place alone is no description: the operator writes one.
        json={"category": "ho_tro_kho_khan", "urgent": False, "description": "Ngập sâu"},
        headers=world.auth("operator"),
    )
    assert r.status_code == 201, r.text
    case = await client.get(f"/api/v1/cases/{r.json()['code']}", headers=world.auth("operator"))
    assert (case.json()["channel"], case.json()["lat"], case.json()["long"]) == (
        "viber",
        32.0853,
        34.7818,
    )
