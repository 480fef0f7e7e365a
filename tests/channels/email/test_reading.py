"""Raw mail read into one Inbound: a Vietnamese message with a photo taken from a real
mailbox, HTML-only mail, quoted replies, threading keys, loop signals, acknowledgements."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

import pytest

from hotline.channels.adapter import InboundKind
from hotline.channels.email import (
    EmailAdapter,
    ThreadKey,
    case_codes,
    fetch_new,
    read_message,
    should_acknowledge,
    thread_keys,
)
from tests.channels.email.conftest import Dovecot

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)

# As Thunderbird writes it: RFC 2047 B for the name, Q for the subject, a photo and a PDF.
VIETNAMESE = (
    b"Return-Path: <chi.tran@example.vn>\r\n"
    b"From: =?UTF-8?B?VHLhuqduIFRo4buLIENoaQ==?= <Chi.Tran@Example.VN>\r\n"
    b"To: hotline@hotline.test\r\n"
    b"Subject: =?UTF-8?Q?=C4=90=C6=B0=E1=BB=9Dng_ng=E1=BA=ADp_n=C6=B0=E1=BB=9Bc?=\r\n"
    b"Date: Tue, 03 Dec 2024 08:15:00 +0700\r\n"
    b"Message-ID: <4f1c2a@mail.example.vn>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="b1"\r\n'
    b"\r\n--b1\r\n"
    b'Content-Type: multipart/alternative; boundary="b2"\r\n'
    b"\r\n--b2\r\n"
    b"Content-Type: text/plain; charset=UTF-8\r\n"
    b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    b"Ch=C3=A0o c=C3=A1c anh ch=E1=BB=8B,\r\n"
    b"=C4=90=C6=B0=E1=BB=9Dng L=C3=AA L=E1=BB=A3i ng=E1=BA=ADp s=C3=A2u 40cm.\r\n"
    b"\r\n--b2\r\n"
    b"Content-Type: text/html; charset=UTF-8\r\n\r\n"
    b"<p>Ch\xc3\xa0o c\xc3\xa1c anh ch\xe1\xbb\x8b</p>\r\n"
    b"\r\n--b2--\r\n"
    b"\r\n--b1\r\n"
    b'Content-Type: image/png; name="=?UTF-8?Q?=E1=BA=A3nh.png?="\r\n'
    b'Content-Disposition: attachment; filename="=?UTF-8?Q?=E1=BA=A3nh.png?="\r\n'
    b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(PNG).replace(b"\n", b"\r\n")
    + b"\r\n--b1\r\n"
    b"Content-Type: application/pdf\r\n"
    b"Content-Disposition: attachment; filename*=UTF-8''%C4%91%C6%A1n.pdf\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(b"%PDF-1.4 test")
    + b"\r\n--b1--\r\n"
)  # fmt: skip


@pytest.mark.anyio
async def test_a_vietnamese_message_with_attachments_read_from_the_mailbox(
    dovecot: Dovecot,
) -> None:
    folder = dovecot.new_folder()
    dovecot.append(folder, VIETNAMESE)
    settings = dovecot.settings(folder)
    [fetched] = (await fetch_new(settings, None)).messages
    [inbound] = EmailAdapter().read(settings, fetched.raw)

    assert inbound.kind == InboundKind.MESSAGE
    assert inbound.event_id == "<4f1c2a@mail.example.vn>"
    assert inbound.user_id == "chi.tran@example.vn"
    assert inbound.user_name == "Trần Thị Chi"
    assert inbound.subject == "Đường ngập nước"
    assert inbound.text == "Chào các anh chị,\nĐường Lê Lợi ngập sâu 40cm."
    assert inbound.sent_at == datetime(2024, 12, 3, 1, 15, tzinfo=UTC)
    assert not inbound.automatic and inbound.thread_refs == ()
    photo, pdf = inbound.attachments
    assert (photo.kind, photo.name, photo.content_type, photo.data) == (
        "image",
        "ảnh.png",
        "image/png",
        PNG,
    )
    assert (pdf.kind, pdf.name, pdf.content_type, pdf.data) == (
        "file",
        "đơn.pdf",
        "application/pdf",
        b"%PDF-1.4 test",
    )


def simple(**headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = headers.pop("From", "Bình <binh@example.vn>")
    message["To"] = "hotline@hotline.test"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    if "Content-Type" not in headers:
        message.set_content("Xin hỏi về thủ tục.")
    return message.as_bytes()


def test_raw_utf8_headers_and_a_missing_message_id() -> None:
    raw = (
        "From: Lê Văn Bình <binh@example.vn>\r\nSubject: Hỏi thủ tục\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nNội dung\r\n"
    ).encode()
    inbound = read_message(raw)
    assert inbound is not None
    assert inbound.user_name == "Lê Văn Bình" and inbound.subject == "Hỏi thủ tục"
    assert inbound.event_id.startswith("sha256:")
    assert read_message(raw) == inbound  # the same bytes, the same key
    assert read_message(raw + b"x") != inbound


def test_html_only_mail_becomes_text_with_its_line_breaks() -> None:
    message = EmailMessage()
    message["From"] = "binh@example.vn"
    message.set_content(
        "<html><head><style>p{color:red}</style><script>alert(1)</script></head><body>"
        "<p>Dòng một &amp; hai</p><div>Dòng <b>ba</b><br>Dòng bốn</div>"
        "<ul><li>mục</li></ul></body></html>",
        subtype="html",
    )
    inbound = read_message(message.as_bytes())
    assert inbound is not None
    assert inbound.text == "Dòng một & hai\n\nDòng ba\nDòng bốn\n\n- mục"


def test_the_quoted_earlier_message_is_trimmed_but_an_inline_answer_is_kept() -> None:
    message = EmailMessage()
    message["From"] = "binh@example.vn"
    message.set_content(
        "Vâng, đúng địa chỉ đó.\n\nVào Th 3, 3 thg 12, 2024 lúc 08:15 Hotline <h@x.vn> đã viết:\n"
        "> Anh cho biết địa chỉ?\n> Cảm ơn.\n"
    )
    inbound = read_message(message.as_bytes())
    assert inbound is not None and inbound.text == "Vâng, đúng địa chỉ đó."

    inline = EmailMessage()
    inline["From"] = "binh@example.vn"
    inline.set_content("> Địa chỉ?\nSố 5 Lê Lợi\n> Thời gian?\nSáng nay\n")
    read = read_message(inline.as_bytes())
    assert read is not None and read.text == "> Địa chỉ?\nSố 5 Lê Lợi\n> Thời gian?\nSáng nay"


def test_threading_keys_in_order_in_reply_to_references_then_the_case_code() -> None:
    raw = simple(
        Subject="Re: Đèn đường hỏng [K7QF-2M9D]",
        Message_ID="<c3@example.vn>",
        In_Reply_To="<hotline.b@hotline.test>",
        References="<c1@example.vn> <hotline.a@hotline.test> <hotline.b@hotline.test>",
    )
    inbound = read_message(raw)
    assert inbound is not None
    assert inbound.thread_refs == (
        "<hotline.b@hotline.test>",
        "<hotline.a@hotline.test>",
        "<c1@example.vn>",
    )
    assert thread_keys(inbound) == [
        ThreadKey("message_id", "<hotline.b@hotline.test>"),
        ThreadKey("message_id", "<hotline.a@hotline.test>"),
        ThreadKey("message_id", "<c1@example.vn>"),
        ThreadKey("case_code", "K7QF-2M9D"),
    ]


def test_case_codes_in_a_subject() -> None:
    assert case_codes("Mã hồ sơ k7qf-2m9d, và [2024-2025]") == ["K7QF-2M9D", "2024-2025"]
    assert case_codes("Báo cáo năm 2024-2025") == []  # all digits, not in brackets
    assert case_codes("Mã K7QO-2M9D") == ["K7Q0-2M9D"]  # O read as 0, as cases/codes.py does
    assert case_codes(None) == []


@pytest.mark.parametrize(
    ("headers", "automatic"),
    [
        ({"Auto_Submitted": "auto-replied"}, True),
        ({"Auto_Submitted": "auto-generated (vacation)"}, True),
        ({"Auto_Submitted": "no"}, False),
        ({"X_Autoreply": "yes"}, True),
        ({"Precedence": "bulk"}, True),
        ({"Precedence": "list"}, True),
        ({"Precedence": "junk"}, True),
        ({"Precedence": "first-class"}, False),
        ({"X_Loop": "hotline@hotline.test"}, True),
        ({"List_Unsubscribe": "<mailto:leave@list.example>"}, True),
        ({"From": "MAILER-DAEMON@mx.example.vn"}, True),
        ({"From": "postmaster@example.vn"}, True),
        ({"Return_Path": "<>"}, True),
        ({}, False),
    ],
)
def test_loop_signals_mark_a_message_automatic(headers: dict[str, str], automatic: bool) -> None:
    raw = simple(**headers)
    inbound = read_message(raw)
    assert inbound is not None and inbound.automatic is automatic
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert should_acknowledge(inbound, [], now=now) is not automatic


def test_a_delivery_report_is_automatic() -> None:
    raw = (
        b"From: Mail System <mx@example.vn>\r\nMessage-ID: <r1@mx.example.vn>\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="x"\r\n\r\n'
        b"--x\r\nContent-Type: text/plain\r\n\r\nDelivery failed\r\n"
        b"--x\r\nContent-Type: message/delivery-status\r\n\r\nAction: failed\r\n--x--\r\n"
    )
    inbound = read_message(raw)
    assert inbound is not None and inbound.automatic and inbound.text == "Delivery failed"


def test_acknowledgements_at_most_one_per_sender_per_hour() -> None:
    inbound = read_message(simple())
    assert inbound is not None
    now = datetime(2025, 1, 1, 12, tzinfo=UTC)
    assert should_acknowledge(inbound, [], now=now)
    assert not should_acknowledge(inbound, [now - timedelta(minutes=59)], now=now)
    assert should_acknowledge(inbound, [now - timedelta(minutes=61)], now=now)
    assert should_acknowledge(
        inbound, [now - timedelta(minutes=5)], now=now, interval=timedelta(hours=1), limit=2
    )


def test_our_own_copy_reads_as_an_echo_and_no_sender_reads_as_nothing() -> None:
    own = simple(From="Hotline <HOTLINE@hotline.test>", Date=format_datetime(datetime.now(UTC)))
    [echo] = EmailAdapter().read({"address": "hotline@hotline.test"}, own)
    assert echo.kind == InboundKind.ECHO
    assert not should_acknowledge(echo, [], now=datetime.now(UTC))
    assert EmailAdapter().read({}, b"Subject: nobody\r\n\r\ntext\r\n") == []
