"""An e-mail channel end to end on real servers: a mail appended to the Dovecot mailbox is read
by the worker's mailbox task into a conversation, an operator's reply reaches the aiosmtpd
receiver threaded on it, the citizen's answer joins the same conversation, machines' mail is
kept but opens nothing, and SMTP's refusals show."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import pytest

from hotline.channels.mailboxes import Mailboxes
from tests.channels.email.conftest import USER, Dovecot, SMTPServer
from tests.channels.zalo_helpers import run_jobs
from tests.conftest import new_case_body

pytestmark = pytest.mark.anyio

CITIZEN = "an.nguyen@example.vn"


def mail(message_id: str, subject: str, text: str, later: int = 0, **headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = headers.pop("From", f"Nguyễn Văn An <{CITIZEN}>")
    message["To"] = USER
    message["Subject"] = subject
    # `later`: a citizen answers after our reply (Date has whole seconds only).
    message["Date"] = format_datetime(datetime.now(UTC) + timedelta(seconds=later))
    message["Message-ID"] = message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return message.as_bytes(policy=policy.SMTP)


async def until(check: Callable[[], Awaitable[Any]], what: str) -> Any:
    """Wait for the worker's task to have done something (no timing is asserted: the
    deadline only keeps a broken reader from hanging the suite)."""
    for _ in range(600):
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


@pytest.fixture
async def mailbox(app, client, world, dovecot: Dovecot, smtp: SMTPServer):
    folder = dovecot.new_folder()
    settings = dovecot.settings(
        folder, smtp_port=smtp.port, timeout=5, display_name="Tổng đài 1022"
    )
    r = await client.post(
        "/api/v1/channels",
        json={"kind": "email", "name": "Hộp thư 1022", "settings": settings},
        headers=world.auth("admin"),
    )
    assert r.status_code == 201, r.text
    channel = int(r.json()["id"])
    readers = Mailboxes(app.state.hotline.sessionmaker, wait_timeout=5)
    await readers.sync()
    try:
        yield channel, folder
    finally:
        await readers.stop()


async def conversations(client, world, channel: int) -> list[dict[str, Any]]:
    r = await client.get(
        "/api/v1/conversations", params={"channel": channel}, headers=world.auth("operator")
    )
    assert r.status_code == 200, r.text
    out = []
    for item in r.json()["items"]:
        detail = await client.get(
            f"/api/v1/conversations/{item['id']}", headers=world.auth("operator")
        )
        out.append(detail.json())
    return out


async def reply(client, world, conversation: int, text: str) -> dict[str, Any]:
    r = await client.post(
        f"/api/v1/conversations/{conversation}/messages",
        json={"text": text},
        headers=world.auth("operator"),
    )
    assert r.status_code == 202, r.text
    return dict(r.json())


async def outgoing(client, world, conversation: int) -> list[dict[str, Any]]:
    r = await client.get(f"/api/v1/conversations/{conversation}", headers=world.auth("operator"))
    return [m for m in r.json()["messages"] if m["direction"] == "out"]


async def test_mail_is_read_answered_threaded_and_machines_open_nothing(
    app, client, world, dovecot: Dovecot, smtp: SMTPServer, mailbox
):
    channel, folder = mailbox
    dovecot.append(folder, mail("<c1@example.vn>", "Đèn đường hỏng", "Đèn ở phố Huế không sáng."))

    async def first() -> Any:
        found = await conversations(client, world, channel)
        return found[0] if found and found[0]["messages"] else None

    conversation = await until(first, "the mail read into a conversation")
    assert conversation["external_user_id"] == CITIZEN
    [citizen] = conversation["messages"]
    assert (citizen["text"], citizen["subject"], citizen["source"]) == (
        "Đèn ở phố Huế không sáng.",
        "Đèn đường hỏng",
        "citizen",
    )

    await reply(client, world, conversation["id"], "Tổng đài đã chuyển UBND phường.")
    await run_jobs(app)
    [sent] = smtp.handler.received
    wire = message_from_bytes(sent.data, policy=policy.default)
    [ours] = await outgoing(client, world, conversation["id"])
    assert ours["status"] == "sent"
    assert wire["Message-ID"] == ours["provider_id"]
    assert wire["In-Reply-To"] == "<c1@example.vn>"
    assert wire["References"] == "<c1@example.vn>"
    assert wire["Subject"] == "Re: Đèn đường hỏng"
    assert sent.rcpt_tos == [CITIZEN]
    assert wire["Auto-Submitted"] is None

    # The conversation is closed; the citizen's answer to our reply reopens it (a mail
    # without the thread would start a new one).
    r = await client.post(
        f"/api/v1/conversations/{conversation['id']}/close", headers=world.auth("operator")
    )
    assert r.status_code == 200
    answer = mail(
        "<c2@example.vn>",
        "Re: Re: Đèn đường hỏng",
        "Cảm ơn, đèn vẫn chưa sáng.",
        later=2,
        In_Reply_To=ours["provider_id"],
        References=f"<c1@example.vn> {ours['provider_id']}",
    )
    dovecot.append(folder, answer)

    async def answered() -> Any:
        [only] = await conversations(client, world, channel)
        return only if len(only["messages"]) == 3 else None

    joined = await until(answered, "the answer joined the conversation")
    assert joined["id"] == conversation["id"] and joined["status"] == "open"
    assert [m["text"] for m in joined["messages"]][-1] == "Cảm ơn, đèn vẫn chưa sáng."

    # An out-of-office answer: kept, marked, never the text of a case.
    vacation = mail(
        "<auto1@example.vn>",
        "Tự động trả lời: Đèn đường hỏng",
        "Tôi đang nghỉ phép đến thứ Hai.",
        From="Phòng Quản lý đô thị <qldt@example.vn>",
        Auto_Submitted="auto-replied",
    )
    dovecot.append(folder, vacation)

    async def automatic() -> Any:
        found = [c for c in await conversations(client, world, channel) if c["id"] != joined["id"]]
        return found[0] if found and found[0]["messages"] else None

    machine = await until(automatic, "the auto-reply stored")
    [auto] = machine["messages"]
    assert (auto["source"], machine["case_id"]) == ("automatic", None)
    r = await client.post(
        f"/api/v1/conversations/{machine['id']}/case", json={}, headers=world.auth("operator")
    )
    assert r.status_code == 422
    assert r.json()["field"] == "description"

    # Nothing is read twice, and nothing was ever answered automatically.
    await asyncio.sleep(0.2)
    assert sum(len(c["messages"]) for c in await conversations(client, world, channel)) == 4
    assert len(smtp.handler.received) == 1


async def test_smtp_451_is_retried_and_delivered_once_and_550_fails_visibly(
    app, client, world, dovecot: Dovecot, smtp: SMTPServer, mailbox
):
    channel, folder = mailbox
    dovecot.append(folder, mail("<c9@example.vn>", "Ngập nước", "Ngõ 5 ngập sâu."))

    async def first() -> Any:
        found = await conversations(client, world, channel)
        return found[0] if found and found[0]["messages"] else None

    conversation = await until(first, "the mail read")
    smtp.handler.data_answers.append("451 4.3.0 Try again later")
    await reply(client, world, conversation["id"], "Đã tiếp nhận.")
    await run_jobs(app)
    [waiting] = await outgoing(client, world, conversation["id"])
    assert waiting["status"] == "queued" and "451" in waiting["error"]
    assert smtp.handler.received == []
    await run_jobs(app)
    await run_jobs(app)
    [delivered] = await outgoing(client, world, conversation["id"])
    assert (delivered["status"], delivered["attempts"]) == ("sent", 2)
    assert len(smtp.handler.received) == 1

    smtp.handler.data_answers.append("550 5.1.1 No such user")
    await reply(client, world, conversation["id"], "Xin bổ sung địa chỉ.")
    await run_jobs(app)
    failed = (await outgoing(client, world, conversation["id"]))[-1]
    assert (failed["status"], failed["error"]) == ("failed", "SMTP 550: 5.1.1 No such user")
    assert len(smtp.handler.received) == 1


async def test_the_hook_of_an_email_channel_takes_nothing(app, client, world, mailbox):
    channel, _ = mailbox
    body = mail("<h1@example.vn>", "Qua webhook", "Không được nhận.")
    r = await client.post(
        f"/hooks/{channel}", content=body, headers={"Content-Type": "message/rfc822"}
    )
    assert r.status_code == 405
    assert (await client.get(f"/hooks/{channel}")).status_code == 405
    assert await conversations(client, world, channel) == []


async def test_a_tracking_code_in_the_subject_links_the_case_but_not_for_a_machine(
    app, client, world, dovecot: Dovecot, smtp: SMTPServer, mailbox
):
    channel, folder = mailbox
    r = await client.post("/api/v1/cases", json=new_case_body(), headers=world.auth("operator"))
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    dovecot.append(
        folder,
        mail(
            "<k1@example.vn>",
            "Vắng nhà: Về yêu cầu " + code,
            "Tôi sẽ trả lời sau.",
            From="Hộp thư tự động <auto@example.vn>",
            Auto_Submitted="auto-replied",
        ),
    )
    dovecot.append(folder, mail("<k2@example.vn>", "Về yêu cầu " + code.lower(), "Đã hai ngày."))

    async def both() -> Any:
        found = await conversations(client, world, channel)
        return found if len(found) == 2 and all(c["messages"] for c in found) else None

    found = {c["external_user_id"]: c for c in await until(both, "both mails read")}
    assert found[CITIZEN]["case_code"] == code
    assert found["auto@example.vn"]["case_code"] is None  # a machine links nothing
    await reply(client, world, found[CITIZEN]["id"], "Phường đang xử lý.")
    await run_jobs(app)
    [sent] = smtp.handler.received
    wire = message_from_bytes(sent.data, policy=policy.default)
    # The code the citizen wrote is kept (not added twice); the reply answers their mail.
    assert wire["Subject"] == f"Re: Về yêu cầu {code.lower()}"
    assert wire["In-Reply-To"] == "<k2@example.vn>"
