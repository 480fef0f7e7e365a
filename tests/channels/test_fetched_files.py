"""Pictures sent on Zalo, Messenger and Viber come as links to the provider's CDN, which
expire: a job fetches each one (a real HTTP server on loopback stands in for the CDN), keeps
it under the attachments' rules, attaches it to the conversation's case, and shows it in the
thread; an oversized or non-image answer is refused, a failing link retried, then recorded as
failed with the link kept."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hotline.jobs.models import Job, JobStatus
from hotline.settings import Settings
from tests.attachments.test_attachments import make_png
from tests.channels.helpers import MESSENGER, VIBER, FakeProvider, signature_headers
from tests.channels.test_inbox_pages import sign_in
from tests.channels.test_provider_hooks import make_channel as make_provider_channel
from tests.channels.zalo_helpers import (
    conversation_of,
    deliver,
    make_channel,
    run_jobs,
    variant,
)

pytestmark = pytest.mark.anyio

LIMIT = 4096
FETCH_FILES = "attachments_fetch_message_files"  # the job (channels/files.py)
FETCH_ATTEMPTS = 5
PNG = make_png()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        var_dir=tmp_path / "var",
        site_province_code="01",
        attachment_max_bytes=LIMIT,
    )


class CDN:
    """A real HTTP server on loopback serving what a test puts at a path: bytes, or a
    number of 503 answers before them. Counts the requests per path."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str]] = {}
        self.failures: dict[str, int] = {}
        self.hits: dict[str, int] = {}
        cdn = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                cdn.hits[self.path] = cdn.hits.get(self.path, 0) + 1
                if cdn.failures.get(self.path, 0) > 0:
                    cdn.failures[self.path] -= 1
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.path not in cdn.files:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body, content_type = cdn.files[self.path]
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def put(self, path: str, body: bytes, content_type: str = "image/jpeg", fail: int = 0) -> str:
        self.files[path] = (body, content_type)
        self.failures[path] = fail
        return self.url + path

    def __enter__(self) -> CDN:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def cdn() -> Iterator[CDN]:
    with CDN() as server:
        yield server


def zalo_image(url: str, msg_id: str) -> bytes:
    """Zalo's documented `user_send_image` with the picture at `url`."""
    document = json.loads(variant("user_send_image", msg_id=msg_id))
    document["message"]["attachments"][0]["payload"]["url"] = url
    return json.dumps(document, ensure_ascii=False).encode()


async def _messages(client: Any, world: Any, conversation_id: int) -> list[dict[str, Any]]:
    r = await client.get(f"/api/v1/conversations/{conversation_id}", headers=world.auth("operator"))
    assert r.status_code == 200, r.text
    return list(r.json()["messages"])


async def _fetch_jobs(app: Any) -> list[Job]:
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        return list((await session.scalars(select(Job).where(Job.kind == FETCH_FILES))).all())


async def test_a_zalo_picture_is_fetched_kept_shown_and_becomes_the_cases(
    app, client, world, zalo, cdn: CDN
) -> None:
    channel = await make_channel(client, world, zalo.url)
    url = cdn.put("/photo-stal/ngap.jpg", PNG)
    assert (await deliver(client, channel, zalo_image(url, "img-1"))).status_code == 200
    conversation = await conversation_of(client, world, channel)
    # Before the worker runs, the message holds the provider's link.
    [message] = await _messages(client, world, conversation["id"])
    assert message["attachments"][0]["url"] == url
    assert "stored" not in message["attachments"][0]
    # A case opened meanwhile gets the picture once it is fetched.
    r = await client.post(
        f"/api/v1/conversations/{conversation['id']}/case",
        json={"category": "phan_anh_vi_pham"},
        headers=world.auth("operator"),
    )
    assert r.status_code == 201, r.text
    code = r.json()["code"]

    await run_jobs(app)
    await run_jobs(app)

    [message] = await _messages(client, world, conversation["id"])
    [picture] = message["attachments"]
    assert picture["url"] == url  # the link stays, beside the kept file
    assert picture["stored"]["media_type"] == "image/png"
    assert picture["stored"]["size"] == len(PNG)
    assert cdn.hits["/photo-stal/ngap.jpg"] == 1
    r = await client.get(
        f"/api/v1/conversations/{conversation['id']}/messages/{message['id']}/files/0",
        headers=world.auth("operator"),
    )
    assert r.status_code == 200 and r.content == PNG
    r = await client.get(f"/api/v1/cases/{code}", headers=world.auth("operator"))
    assert [(f["filename"], f["size"]) for f in r.json()["attachments"]] == [("ngap.jpg", len(PNG))]
    # The thread shows the kept picture, not the CDN's link.
    await sign_in(client)
    page = await client.get(f"/conversations/{conversation['id']}")
    kept = f"/conversations/{conversation['id']}/files/{message['id']}/0"
    assert f'<img src="{kept}"' in page.text
    assert url not in page.text
    # A redelivery of the same event fetches nothing again.
    assert (await deliver(client, channel, zalo_image(url, "img-1"))).status_code == 200
    await run_jobs(app)
    assert cdn.hits["/photo-stal/ngap.jpg"] == 1
    assert len(await _fetch_jobs(app)) == 1


async def test_an_oversized_or_non_image_answer_is_refused_with_its_reason(
    app, client, world, zalo, cdn: CDN
) -> None:
    channel = await make_channel(client, world, zalo.url)
    big = cdn.put("/big.jpg", b"\xff\xd8\xff\xe0" + b"0" * LIMIT)
    page = cdn.put("/expired.jpg", b"<html><body>Link expired</body></html>", "text/html")
    assert (await deliver(client, channel, zalo_image(big, "img-big"))).status_code == 200
    assert (await deliver(client, channel, zalo_image(page, "img-html"))).status_code == 200
    await run_jobs(app)
    conversation = await conversation_of(client, world, channel)
    refused = {
        m["attachments"][0]["url"]: m["attachments"][0]
        for m in await _messages(client, world, conversation["id"])
    }
    assert "stored" not in refused[big] and refused[big]["refused"].startswith("Tệp vượt quá")
    assert "stored" not in refused[page] and "Chỉ nhận ảnh" in refused[page]["refused"]
    # Refusals are final: no retry.
    assert [j.status for j in await _fetch_jobs(app)] == [JobStatus.DONE, JobStatus.DONE]
    await run_jobs(app)
    assert cdn.hits == {"/big.jpg": 1, "/expired.jpg": 1}
    files = list((Path(app.state.hotline.settings.attachments_dir)).glob("*"))
    assert files == []


async def test_a_failing_link_is_retried_then_recorded_as_failed_with_the_link_kept(
    app, client, world, zalo, cdn: CDN
) -> None:
    channel = await make_channel(client, world, zalo.url)
    flaky = cdn.put("/flaky.jpg", PNG, fail=2)
    down = cdn.put("/down.jpg", PNG, fail=FETCH_ATTEMPTS + 5)
    assert (await deliver(client, channel, zalo_image(flaky, "img-flaky"))).status_code == 200
    assert (await deliver(client, channel, zalo_image(down, "img-down"))).status_code == 200
    conversation = await conversation_of(client, world, channel)

    await run_jobs(app)
    by_url = {
        m["attachments"][0]["url"]: m["attachments"][0]
        for m in await _messages(client, world, conversation["id"])
    }
    assert "stored" not in by_url[flaky] and "fetch_failed" not in by_url[down]
    for _ in range(FETCH_ATTEMPTS):
        await run_jobs(app)

    by_url = {
        m["attachments"][0]["url"]: m["attachments"][0]
        for m in await _messages(client, world, conversation["id"])
    }
    assert by_url[flaky]["stored"]["size"] == len(PNG)
    assert cdn.hits["/flaky.jpg"] == 3
    assert "stored" not in by_url[down]
    assert "HTTP 503" in by_url[down]["fetch_failed"]
    assert cdn.hits["/down.jpg"] == FETCH_ATTEMPTS
    await sign_in(client)
    page = await client.get(f"/conversations/{conversation['id']}")
    assert "Không tải được tệp về" in page.text and f'href="{down}"' in page.text


async def test_messenger_and_viber_pictures_are_fetched_too(
    app, client, world, provider: FakeProvider, cdn: CDN
) -> None:
    fb_url = cdn.put("/fb/image.png", PNG)
    viber_url = cdn.put("/viber/image.png", PNG)
    messenger = await make_provider_channel(app, client, world, "messenger", provider)
    viber = await make_provider_channel(app, client, world, "viber", provider)
    fb_body = json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": MESSENGER["page_id"],
                    "time": 1458696618911,
                    "messaging": [
                        {
                            "sender": {"id": "USER_ID"},
                            "recipient": {"id": MESSENGER["page_id"]},
                            "timestamp": 1458696618268,
                            "message": {
                                "mid": "mid.1458696618141:b4ef9d19ec21086067",
                                "attachments": [{"type": "image", "payload": {"url": fb_url}}],
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()
    viber_body = json.dumps(
        {
            "event": "message",
            "timestamp": 1457764197627,
            "message_token": 4912661846655238145,
            "sender": {"id": "01234567890A=", "name": "Nguyễn Văn An"},
            "message": {"type": "picture", "text": "", "media": viber_url},
        },
        ensure_ascii=False,
    ).encode()
    for channel, kind, body, settings in (
        (messenger, "messenger", fb_body, MESSENGER),
        (viber, "viber", viber_body, VIBER),
    ):
        r = await client.post(
            f"/hooks/{channel}", content=body, headers=signature_headers(kind, settings, body)
        )
        assert r.status_code == 200, r.text
    await run_jobs(app)
    for channel in (messenger, viber):
        conversation = await conversation_of(client, world, channel)
        [message] = await _messages(client, world, conversation["id"])
        [picture] = message["attachments"]
        assert picture["stored"]["media_type"] == "image/png", picture
    assert cdn.hits == {"/fb/image.png": 1, "/viber/image.png": 1}


async def test_an_unreachable_link_is_retried_then_marked_failed_and_the_message_kept(
    app, client, world, zalo
) -> None:
    """No server at all behind the link (a closed port on loopback): the download is tried
    with the job's retries, then the attachment is marked failed; the message, its caption
    and the link stay."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/gone.jpg"
    channel = await make_channel(client, world, zalo.url)
    assert (await deliver(client, channel, zalo_image(url, "img-gone"))).status_code == 200
    for _ in range(FETCH_ATTEMPTS + 1):
        await run_jobs(app)
    conversation = await conversation_of(client, world, channel)
    [message] = await _messages(client, world, conversation["id"])
    [picture] = message["attachments"]
    assert message["text"] == "Ảnh hiện trường"
    assert picture["url"] == url and "stored" not in picture
    assert "ConnectError" in picture["fetch_failed"]
    # Its last attempt recorded the failure: the job is over, nothing left to retry.
    [job] = await _fetch_jobs(app)
    assert (job.status, job.attempts) == (JobStatus.DONE, FETCH_ATTEMPTS)
