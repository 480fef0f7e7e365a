"""Reading a mailbox over IMAP: new messages since the last UID seen, and a wait for new mail
(IDLE, or a plain sleep between polls when the server or the settings have no IDLE).

The caller (the channel worker) keeps the state, a small dict `{"uidvalidity", "last_uid"}`,
stored with the messages it saved from the same fetch, so a crash between the two repeats a
fetch instead of skipping one; repeats are harmless because messages are deduplicated on
their Message-ID. Nothing is ever deleted or moved on the server; `mark_seen` only sets \\Seen.

aioimaplib speaks IMAP and IDLE on asyncio; it has no STARTTLS command of its own, so the
connection is upgraded here with the event loop's `start_tls` after the server agrees.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import aioimaplib

from hotline.channels.email.config import MailboxSettings

IDLE_MAX_SECONDS = 29 * 60  # RFC 2177: servers may drop an IDLE after 30 minutes


class MailboxError(Exception):
    """The mailbox could not be read now (connection, login, timeout): try again later."""


@dataclass(frozen=True)
class FetchedMessage:
    uid: int
    raw: bytes


@dataclass(frozen=True)
class FetchResult:
    messages: list[FetchedMessage]
    state: dict[str, int]  # store with the messages: {"uidvalidity", "last_uid"}
    more: bool = False  # more messages wait beyond this batch: call again
    reset: bool = False  # the folder's UIDVALIDITY changed: everything was read again
    details: dict[str, Any] = field(default_factory=dict)


def _check(response: Any, what: str) -> Any:
    if response.result != "OK":
        lines = b" ".join(line for line in response.lines if isinstance(line, bytes))
        raise MailboxError(f"IMAP {what}: {response.result} {lines.decode(errors='replace')}")
    return response


async def _starttls(client: aioimaplib.IMAP4, mailbox: MailboxSettings) -> None:
    protocol = client.protocol
    if "STARTTLS" not in protocol.capabilities:
        raise MailboxError("IMAP server offers no STARTTLS")
    command = aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)
    _check(await asyncio.wait_for(protocol.execute(command), mailbox.timeout), "STARTTLS")
    loop = asyncio.get_running_loop()
    transport = await asyncio.wait_for(
        loop.start_tls(
            protocol.transport,
            protocol,
            mailbox.tls_context(),
            server_hostname=mailbox.imap_host,
        ),
        mailbox.timeout,
    )
    protocol.transport = transport
    # Capabilities learnt before TLS must be forgotten (RFC 3501 6.2.1).
    await asyncio.wait_for(protocol.capability(), mailbox.timeout)


@contextlib.asynccontextmanager
async def connect(mailbox: MailboxSettings) -> AsyncIterator[aioimaplib.IMAP4]:
    """A logged-in client, logged out (or dropped) on the way out."""
    if mailbox.imap_security == "ssl":
        client: aioimaplib.IMAP4 = aioimaplib.IMAP4_SSL(
            mailbox.imap_host,
            mailbox.imap_port,
            timeout=mailbox.timeout,
            ssl_context=mailbox.tls_context(),
        )
    else:
        client = aioimaplib.IMAP4(mailbox.imap_host, mailbox.imap_port, timeout=mailbox.timeout)
    try:
        try:
            await client.wait_hello_from_server()
            if mailbox.imap_security == "starttls":
                await _starttls(client, mailbox)
            # aioimaplib quotes the password but sends the user name as it is.
            user = aioimaplib.quoted(mailbox.username)
            _check(await client.login(user, mailbox.password), "LOGIN")
        except (OSError, TimeoutError, aioimaplib.AioImapException) as error:
            raise MailboxError(f"IMAP connection: {type(error).__name__}: {error}") from error
        yield client
    finally:
        with contextlib.suppress(Exception):
            if client.protocol.state in {"AUTH", "SELECTED"}:
                await asyncio.wait_for(client.logout(), mailbox.timeout)
        if client.protocol.transport is not None:
            client.protocol.transport.close()


_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]")
_UIDNEXT = re.compile(rb"\[UIDNEXT (\d+)\]")
_FETCH_UID = re.compile(rb"UID (\d+)")


async def _select(client: aioimaplib.IMAP4, folder: str) -> tuple[int, int | None]:
    """UIDVALIDITY and UIDNEXT of the folder, now selected."""
    response = _check(await client.select(_quote(folder)), "SELECT")
    validity = next_uid = None
    for line in response.lines:
        if isinstance(line, bytes | bytearray):
            if found := _UIDVALIDITY.search(line):
                validity = int(found.group(1))
            if found := _UIDNEXT.search(line):
                next_uid = int(found.group(1))
    if validity is None:
        raise MailboxError("IMAP SELECT gave no UIDVALIDITY")
    return validity, next_uid


def _quote(folder: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9._/-]+", folder):
        return folder
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _parse_fetch(lines: list[Any]) -> list[FetchedMessage]:
    """`* n FETCH (UID u BODY[] {len}` + literal + `)` groups; UID may come before or after."""
    found: list[FetchedMessage] = []
    uid: int | None = None
    raw: bytes | None = None

    def flush() -> None:
        nonlocal uid, raw
        if uid is not None and raw is not None:
            found.append(FetchedMessage(uid=uid, raw=raw))
        uid = raw = None

    for line in lines:
        if isinstance(line, bytearray):
            raw = bytes(line)
            continue
        if not isinstance(line, bytes):
            continue
        if re.match(rb"\d+ FETCH ", line):
            flush()
        if match := _FETCH_UID.search(line):
            uid = int(match.group(1))
    flush()
    return found


async def fetch_new(settings: Mapping[str, Any], state: Mapping[str, Any] | None) -> FetchResult:
    """Messages that arrived after `state["last_uid"]`, oldest first, at most `batch` of them.
    A changed UIDVALIDITY (the folder was rebuilt) makes every UID meaningless: the folder is
    read again from the start. Raises MailboxError when the server cannot be read now."""
    mailbox = MailboxSettings.of(settings)
    state = state or {}
    async with connect(mailbox) as client:
        try:
            return await _fetch(client, mailbox, state)
        except (OSError, TimeoutError, aioimaplib.AioImapException) as error:
            raise MailboxError(f"IMAP: {type(error).__name__}: {error}") from error


async def _fetch(
    client: aioimaplib.IMAP4, mailbox: MailboxSettings, state: Mapping[str, Any]
) -> FetchResult:
    validity, _ = await _select(client, mailbox.folder)
    reset = state.get("uidvalidity") is not None and int(state["uidvalidity"]) != validity
    last_uid = 0 if reset else int(state.get("last_uid") or 0)

    # "n:*" always names the highest message even when its UID is below n: filter here.
    search = _check(await client.uid_search(f"UID {last_uid + 1}:*", charset=None), "SEARCH")
    uids: list[int] = []
    for line in search.lines[:-1]:  # the untagged answers; the last line is the tagged "OK"
        words = line.split() if isinstance(line, bytes) else []
        if words[:1] == [b"SEARCH"]:  # aioimaplib strips this word; other versions may not
            words = words[1:]
        if words and all(word.isdigit() for word in words):
            uids += [int(word) for word in words]
    uids = sorted(uid for uid in set(uids) if uid > last_uid)
    batch, more = uids[: mailbox.batch], len(uids) > mailbox.batch

    messages: list[FetchedMessage] = []
    if batch:
        wanted = ",".join(str(uid) for uid in batch)
        fetched = _check(await client.uid("fetch", wanted, "(UID BODY.PEEK[])"), "FETCH")
        messages = sorted(
            (one for one in _parse_fetch(fetched.lines) if one.uid in set(batch)),
            key=lambda one: one.uid,
        )
        if mailbox.mark_seen:
            stored = await asyncio.wait_for(
                client.uid("store", wanted, "+FLAGS.SILENT (\\Seen)"), mailbox.timeout
            )
            _check(stored, "STORE")
    new_last = max([last_uid, *batch])
    return FetchResult(
        messages=messages,
        state={"uidvalidity": validity, "last_uid": new_last},
        more=more,
        reset=reset,
    )


async def wait_for_mail(
    settings: Mapping[str, Any], state: Mapping[str, Any] | None, *, timeout: float | None = None
) -> bool:
    """Wait until the folder may hold mail newer than `state`, at most `timeout` seconds (29
    minutes at most with IDLE; `poll_seconds` without). True when the server said so (or the
    folder already had newer mail when we looked); False when the wait simply ended: either
    way the caller fetches next. Raises MailboxError when the server cannot be reached."""
    mailbox = MailboxSettings.of(settings)
    state = state or {}
    if not mailbox.idle:
        await asyncio.sleep(mailbox.poll_seconds if timeout is None else timeout)
        return False
    limit = min(IDLE_MAX_SECONDS, timeout if timeout is not None else IDLE_MAX_SECONDS)
    async with connect(mailbox) as client:
        try:
            woke = await _idle(client, mailbox, state, limit)
        except (OSError, TimeoutError, aioimaplib.AioImapException) as error:
            raise MailboxError(f"IMAP IDLE: {type(error).__name__}: {error}") from error
    if woke is None:  # the server has no IDLE: poll, without holding a connection meanwhile
        await asyncio.sleep(min(limit, mailbox.poll_seconds))
        return False
    return woke


async def _idle(
    client: aioimaplib.IMAP4, mailbox: MailboxSettings, state: Mapping[str, Any], limit: float
) -> bool | None:
    validity, next_uid = await _select(client, mailbox.folder)
    # Mail that came between the caller's last fetch and this SELECT would not wake the IDLE.
    if state.get("uidvalidity") is not None and int(state["uidvalidity"]) != validity:
        return True
    if next_uid is not None and next_uid > int(state.get("last_uid") or 0) + 1:
        return True
    if not client.has_capability("IDLE"):
        return None
    idle = await client.idle_start(timeout=limit)
    woke = False
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while not woke:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                pushed = await client.wait_server_push(timeout=remaining)
            except TimeoutError:
                break
            if pushed == aioimaplib.STOP_WAIT_SERVER_PUSH:
                break
            lines = pushed if isinstance(pushed, list) else [pushed]
            woke = any(
                isinstance(line, bytes | bytearray) and (b"EXISTS" in line or b"RECENT" in line)
                for line in lines
            )
    finally:
        if client.has_pending_idle():
            client.idle_done()
        with contextlib.suppress(TimeoutError, aioimaplib.AioImapException):
            await asyncio.wait_for(idle, mailbox.timeout)
    return woke
