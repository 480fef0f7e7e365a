"""Replies over SMTP to a real receiver (aiosmtpd on loopback): the bytes it got, threading
headers, the same Message-ID for the same outbox key, and each failure sorted right."""

from __future__ import annotations

from email import message_from_bytes, policy

import aiohttp
import pytest

from hotline.channels.adapter import Outgoing, PermanentSendError, RetryableSendError
from hotline.channels.email import EmailAdapter, read_message
from tests.channels.email.conftest import SMTP_PASSWORD, SMTP_USER, SMTPServer, free_port

pytestmark = pytest.mark.anyio

ADDRESS = "tiepnhan@hotline.test"


def settings(port: int, **extra: object) -> dict[str, object]:
    return {
        "address": ADDRESS,
        "display_name": "Đường dây nóng 1022",
        "imap_host": "127.0.0.1",
        "username": "u",
        "password": "p",
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_security": "none",
        "timeout": 10,
        **extra,
    }


def reply(key: str = "outbox-1", **extra: object) -> Outgoing:
    values: dict[str, object] = {
        "idempotency_key": key,
        "user_id": "an.nguyen@example.vn",
        "text": "Chào anh, yêu cầu của anh đã được tiếp nhận. Mã hồ sơ: K7QF-2M9D.",
        "reply_to": "<c2@example.vn>",
        "subject": "Đèn đường hỏng ở phường Bến Nghé",
        "thread_refs": ("<c1@example.vn>", "<hotline.aaa@hotline.test>"),
        **extra,
    }
    return Outgoing(**values)  # type: ignore[arg-type]


async def send(port: int, message: Outgoing, **extra: object):  # type: ignore[no-untyped-def]
    async with aiohttp.ClientSession() as http:
        return await EmailAdapter().send(settings(port, **extra), message, http)


async def test_a_reply_reaches_the_server_threaded_and_in_utf8(smtp: SMTPServer) -> None:
    sent = await send(smtp.port, reply())
    [got] = smtp.handler.received
    assert got.mail_from == ADDRESS and got.rcpt_tos == ["an.nguyen@example.vn"]
    head = got.data.split(b"\r\n\r\n", 1)[0]
    lines = head.split(b"\r\n")
    assert f"Message-ID: {sent.provider_id}".encode() in lines
    assert b"In-Reply-To: <c2@example.vn>" in lines
    assert b"References: <c1@example.vn> <hotline.aaa@hotline.test> <c2@example.vn>" in lines
    assert b"To: an.nguyen@example.vn" in lines
    assert not any(line.lower().startswith(b"auto-submitted") for line in lines)

    message = message_from_bytes(got.data, policy=policy.default)
    assert str(message["Subject"]) == "Re: Đèn đường hỏng ở phường Bến Nghé [K7QF-2M9D]"
    assert message["From"].addresses[0].display_name == "Đường dây nóng 1022"
    assert message["From"].addresses[0].addr_spec == ADDRESS
    assert message.get_content_charset() == "utf-8"
    assert message.get_content().strip() == reply().text
    assert sent.provider_id is not None and sent.provider_id.endswith("@hotline.test>")


async def test_a_citizen_answer_to_our_reply_threads_on_its_message_id(smtp: SMTPServer) -> None:
    sent = await send(smtp.port, reply())
    ours = message_from_bytes(smtp.handler.received[0].data, policy=policy.default)
    answer = (
        "From: An <an.nguyen@example.vn>\r\n"
        f"To: {ADDRESS}\r\nSubject: {ours['Subject']}\r\nMessage-ID: <c3@example.vn>\r\n"
        f"In-Reply-To: {sent.provider_id}\r\nReferences: {ours['References']} {sent.provider_id}"
        "\r\n\r\nCảm ơn.\r\n"
    ).encode()
    inbound = read_message(answer)
    assert inbound is not None and inbound.thread_refs[0] == sent.provider_id


async def test_the_same_outbox_key_sends_the_same_message_id(smtp: SMTPServer) -> None:
    first = await send(smtp.port, reply("outbox-42"))
    again = await send(smtp.port, reply("outbox-42"))
    other = await send(smtp.port, reply("outbox-43"))
    assert first.provider_id == again.provider_id != other.provider_id
    ids = [message_from_bytes(got.data)["Message-ID"] for got in smtp.handler.received]
    assert ids == [first.provider_id, first.provider_id, other.provider_id]


async def test_an_acknowledgement_is_marked_auto_replied(smtp: SMTPServer) -> None:
    await send(smtp.port, reply(automatic=True))
    lines = smtp.handler.received[0].data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    assert b"Auto-Submitted: auto-replied" in lines
    assert b"X-Auto-Response-Suppress: All" in lines


async def test_451_is_retryable_and_the_retry_is_delivered(smtp: SMTPServer) -> None:
    smtp.handler.data_answers.append("451 4.3.0 Try again later")
    with pytest.raises(RetryableSendError) as error:
        await send(smtp.port, reply())
    assert error.value.code == "451" and smtp.handler.received == []
    sent = await send(smtp.port, reply())
    [got] = smtp.handler.received
    assert message_from_bytes(got.data)["Message-ID"] == sent.provider_id


async def test_a_temporary_recipient_refusal_is_retryable(smtp: SMTPServer) -> None:
    smtp.handler.rcpt_answers.append("450 4.2.1 Mailbox busy")
    with pytest.raises(RetryableSendError):
        await send(smtp.port, reply())


async def test_550_unknown_user_is_permanent(smtp: SMTPServer) -> None:
    smtp.handler.rcpt_answers.append("550 5.1.1 No such user")
    with pytest.raises(PermanentSendError) as error:
        await send(smtp.port, reply())
    assert error.value.code == "550" and not error.value.retryable
    assert smtp.handler.received == []


async def test_554_on_data_is_permanent(smtp: SMTPServer) -> None:
    smtp.handler.data_answers.append("554 5.6.0 Message rejected")
    with pytest.raises(PermanentSendError):
        await send(smtp.port, reply())


async def test_a_refused_connection_is_retryable() -> None:
    with pytest.raises(RetryableSendError) as error:
        await send(free_port(), reply())
    assert error.value.retryable


async def test_starttls_and_login(smtp_servers: dict[str, SMTPServer], tls_files) -> None:  # type: ignore[no-untyped-def]
    server = smtp_servers["starttls"]
    server.handler.received.clear()
    secure = {
        "smtp_security": "starttls",
        "smtp_username": SMTP_USER,
        "smtp_password": SMTP_PASSWORD,
        "ca_file": tls_files.cert,
    }
    await send(server.port, reply(), **secure)
    assert len(server.handler.received) == 1
    # Without the server's certificate trusted, nothing is sent in clear.
    with pytest.raises(PermanentSendError):
        await send(server.port, reply(), **{**secure, "ca_file": None})
    assert len(server.handler.received) == 1
