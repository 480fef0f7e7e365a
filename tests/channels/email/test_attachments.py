"""An e-mail's attachments from a real mailbox: their bytes kept by the attachments domain
(size cap, type by content), refused ones named with the reason, downloadable from the
conversation, and the case's own files once a case is opened from it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from hotline.channels.mailboxes import Mailboxes
from hotline.jobs.worker import keep_mail_file
from hotline.settings import Settings
from tests.attachments.test_attachments import make_png
from tests.channels.email.conftest import Dovecot, SMTPServer
from tests.channels.email.test_channel import conversations, mail
from tests.channels.test_inbox_pages import sign_in
from tests.channels.zalo_helpers import run_jobs

pytestmark = pytest.mark.anyio

LIMIT = 4096
PDF = b"%PDF-1.4\n" + b"0" * 200


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        var_dir=tmp_path / "var",
        site_province_code="01",
        attachment_max_bytes=LIMIT,
    )


def with_files(message_id: str) -> bytes:
    from email import message_from_bytes, policy

    message = message_from_bytes(
        mail(message_id, "Ảnh cống tắc", "Gửi kèm ảnh và đơn."), policy=policy.SMTP
    )
    message.add_attachment(make_png(), maintype="image", subtype="png", filename="ảnh cống.png")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="đơn.pdf")
    big = b"%PDF-1.4\n" + b"1" * LIMIT
    message.add_attachment(big, maintype="application", subtype="pdf", filename="lớn.pdf")
    message.add_attachment(
        b"#!/bin/sh\nrm -rf /\n", maintype="text", subtype="x-sh", filename="x.sh"
    )
    return message.as_bytes(policy=policy.SMTP)


async def test_an_emails_files_are_kept_refused_by_reason_and_become_the_cases(
    app, client, world, dovecot: Dovecot, smtp: SMTPServer
):
    folder = dovecot.new_folder()
    r = await client.post(
        "/api/v1/channels",
        json={
            "kind": "email",
            "name": "Hộp thư 1022",
            "settings": dovecot.settings(folder, smtp_port=smtp.port, timeout=5),
        },
        headers=world.auth("admin"),
    )
    assert r.status_code == 201, r.text
    channel = int(r.json()["id"])
    dovecot.append(folder, with_files("<files-1@example.vn>"))
    readers = Mailboxes(app.state.hotline.sessionmaker, keep_file=keep_mail_file)
    assert await readers.read_all() == 1
    [conversation] = await conversations(client, world, channel)
    [message] = conversation["messages"]
    png, pdf, big, script = message["attachments"]
    assert (png["name"], png["stored"]["media_type"]) == ("ảnh cống.png", "image/png")
    assert png["stored"]["size"] == len(make_png())
    assert (pdf["stored"]["media_type"], pdf["stored"]["size"]) == ("application/pdf", len(PDF))
    assert "stored" not in big and big["refused"].startswith("Tệp vượt quá")
    assert "stored" not in script and script["refused"].startswith("Chỉ nhận ảnh")
    # Downloaded from the conversation: the same bytes, an image shown, a PDF saved.
    base = f"/api/v1/conversations/{conversation['id']}/messages/{message['id']}/files"
    r = await client.get(f"{base}/0", headers=world.auth("operator"))
    assert r.status_code == 200 and r.content == make_png()
    assert r.headers["content-disposition"].startswith("inline")
    r = await client.get(f"{base}/1", headers=world.auth("operator"))
    assert r.content == PDF and r.headers["content-disposition"].startswith("attachment")
    for index in (2, 3, 9):
        r = await client.get(f"{base}/{index}", headers=world.auth("operator"))
        assert r.status_code == 404
    r = await client.get(f"{base}/0", headers=world.auth("officer"))
    assert r.status_code == 404  # not hotline staff: no such conversation
    # The inbox links them and names the refused ones.
    await sign_in(client)
    page = await client.get(f"/conversations/{conversation['id']}")
    assert f"/conversations/{conversation['id']}/files/{message['id']}/0" in page.text
    assert re.search(r"Tệp không được nhận lớn\.pdf: Tệp vượt quá", page.text)
    # A case opened from the conversation gets the kept files as its attachments.
    r = await client.post(
        f"/api/v1/conversations/{conversation['id']}/case",
        json={"category": "phan_anh_vi_pham"},
        headers=world.auth("operator"),
    )
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    await run_jobs(app)
    await run_jobs(app)
    r = await client.get(f"/api/v1/cases/{code}", headers=world.auth("operator"))
    assert r.status_code == 200, r.text
    files: list[dict[str, Any]] = r.json()["attachments"]
    assert sorted((f["filename"], f["size"]) for f in files) == sorted(
        [("ảnh cống.png", len(make_png())), ("đơn.pdf", len(PDF))]
    )
    r = await client.get(
        f"/api/v1/cases/{code}/attachments/{files[0]['id']}", headers=world.auth("operator")
    )
    assert r.status_code == 200
