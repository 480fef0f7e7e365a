"""The mailbox read over IMAP from a real Dovecot: only new mail, state the caller keeps,
UIDVALIDITY changes, IDLE waking on new mail, TLS both ways, nothing deleted."""

from __future__ import annotations

import asyncio

import pytest

from hotline.channels.email import EmailAdapter, MailboxError, fetch_new, wait_for_mail
from tests.channels.email.conftest import Dovecot

pytestmark = pytest.mark.anyio


def mail(n: int, subject: str = "Hỏi đáp") -> bytes:
    return (
        f"From: Người dân {n} <dan{n}@example.vn>\r\n"
        f"To: hotline@hotline.test\r\n"
        f"Subject: {subject} {n}\r\n"
        f"Message-ID: <m{n}.{id(subject)}@example.vn>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        f"Tin nhắn số {n}\r\n"
    ).encode()


def uid_count(dovecot: Dovecot, folder: str) -> int:
    with dovecot.client() as imap:
        status, data = imap.select(folder)
        assert status == "OK"
        return int(data[0] or 0)


async def test_fetch_new_returns_only_messages_after_the_stored_uid(dovecot: Dovecot) -> None:
    folder = dovecot.new_folder()
    settings = dovecot.settings(folder)
    first = await fetch_new(settings, None)
    assert first.messages == [] and first.state["last_uid"] == 0

    dovecot.append(folder, mail(1))
    dovecot.append(folder, mail(2))
    second = await fetch_new(settings, first.state)
    assert [m.raw for m in second.messages] == [mail(1), mail(2)]
    assert second.state["uidvalidity"] == first.state["uidvalidity"]
    assert second.state["last_uid"] == second.messages[-1].uid

    # Nothing new: IMAP's "n:*" would name the last message again; it must not come back.
    again = await fetch_new(settings, second.state)
    assert again.messages == [] and again.state == second.state

    dovecot.append(folder, mail(3))
    third = await fetch_new(settings, second.state)
    assert [m.raw for m in third.messages] == [mail(3)]
    # Messages are left on the server, unread.
    assert uid_count(dovecot, folder) == 3
    with dovecot.client() as imap:
        imap.select(folder)
        assert imap.search(None, "UNSEEN")[1][0].split() == [b"1", b"2", b"3"]


async def test_fetch_new_works_in_batches_and_can_mark_seen(dovecot: Dovecot) -> None:
    folder = dovecot.new_folder()
    for n in range(5):
        dovecot.append(folder, mail(n))
    settings = dovecot.settings(folder, batch=2, mark_seen=True)
    state: dict[str, int] | None = None
    seen: list[bytes] = []
    rounds = 0
    while True:
        result = await fetch_new(settings, state)
        seen += [m.raw for m in result.messages]
        state = result.state
        rounds += 1
        if not result.more:
            break
    assert seen == [mail(n) for n in range(5)] and rounds == 3
    with dovecot.client() as imap:
        imap.select(folder)
        assert imap.search(None, "UNSEEN")[1][0] == b""
        assert len(imap.search(None, "ALL")[1][0].split()) == 5


async def test_a_changed_uidvalidity_reads_the_folder_again(dovecot: Dovecot) -> None:
    folder = dovecot.new_folder()
    settings = dovecot.settings(folder)
    dovecot.append(folder, mail(1))
    before = await fetch_new(settings, None)
    assert len(before.messages) == 1

    # The folder is rebuilt (a restore, a migration): new UIDVALIDITY, UIDs start again.
    with dovecot.client() as imap:
        assert imap.delete(folder)[0] == "OK"
        assert imap.create(folder)[0] == "OK"
    dovecot.append(folder, mail(1))
    dovecot.append(folder, mail(2))
    after = await fetch_new(settings, before.state)
    assert after.reset
    assert after.state["uidvalidity"] != before.state["uidvalidity"]
    # UID 1 again, below the old high-water mark, yet read: the Message-ID dedupes mail 1.
    assert [m.raw for m in after.messages] == [mail(1), mail(2)]


async def test_idle_wakes_when_a_message_arrives(dovecot: Dovecot) -> None:
    folder = dovecot.new_folder()
    settings = dovecot.settings(folder)
    state = (await fetch_new(settings, None)).state
    waiting = asyncio.create_task(wait_for_mail(settings, state, timeout=60))
    await asyncio.sleep(0.5)  # let it reach IDLE; if not yet, the UIDNEXT check catches it
    await asyncio.to_thread(dovecot.append, folder, mail(7))
    assert await asyncio.wait_for(waiting, 30) is True
    assert [m.raw for m in (await fetch_new(settings, state)).messages] == [mail(7)]


async def test_wait_returns_at_once_when_mail_came_after_the_last_fetch(dovecot: Dovecot) -> None:
    folder = dovecot.new_folder()
    settings = dovecot.settings(folder)
    state = (await fetch_new(settings, None)).state
    dovecot.append(folder, mail(8))
    assert await asyncio.wait_for(wait_for_mail(settings, state, timeout=600), 30) is True


async def test_idle_ends_without_mail_after_its_timeout(dovecot: Dovecot) -> None:
    folder = dovecot.new_folder()
    settings = dovecot.settings(folder)
    state = (await fetch_new(settings, None)).state
    assert await asyncio.wait_for(wait_for_mail(settings, state, timeout=0.5), 30) is False


async def test_without_idle_the_wait_is_a_poll_interval(dovecot: Dovecot) -> None:
    settings = dovecot.settings(dovecot.new_folder(), idle=False, poll_seconds=0.1)
    assert await asyncio.wait_for(wait_for_mail(settings, None), 30) is False


@pytest.mark.parametrize("security", ["starttls", "ssl"])
async def test_tls_connections_check_the_server_certificate(
    dovecot: Dovecot, security: str
) -> None:
    folder = dovecot.new_folder()
    dovecot.append(folder, mail(1))
    port = dovecot.port if security == "starttls" else dovecot.ssl_port
    settings = dovecot.settings(folder, imap_security=security, imap_port=port)
    adapter = EmailAdapter()
    trusted = await adapter.fetch_new({**settings, "ca_file": dovecot.ca_file}, None)
    assert [m.raw for m in trusted.messages] == [mail(1)]
    with pytest.raises(MailboxError):
        await adapter.fetch_new(settings, None)  # a self-signed server not trusted


async def test_a_wrong_password_or_a_dead_server_is_a_mailbox_error(dovecot: Dovecot) -> None:
    with pytest.raises(MailboxError, match="LOGIN"):
        await fetch_new({**dovecot.settings(), "password": "wrong"}, None)
    from tests.channels.email.conftest import free_port

    with pytest.raises(MailboxError):
        await fetch_new({**dovecot.settings(), "imap_port": free_port()}, None)
