"""Reading the e-mail channels' mailboxes in the worker: one task per enabled mailbox that
fetches what is new, stores it through the inbox like a webhook's events, then waits for
more (IMAP IDLE, or polling).

Each fetched batch and the mailbox's state after it (its UIDVALIDITY and last UID) are saved
in one transaction: a crash between the two repeats a fetch, never skips one, and a repeat
stores nothing twice (UNIQUE(channel, event_id) on the Message-ID). A mailbox that cannot be
read is tried again with backoff; its log lines name the channel, never its settings.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.channels import inbox
from hotline.channels.email import EmailAdapter, MailboxError
from hotline.channels.files import KeepFile
from hotline.channels.models import Channel
from hotline.channels.registry import adapter_for
from hotline.events import Wake, committed

STOP_WAIT_SECONDS = 5.0
log = structlog.get_logger("hotline.channels.mail")

KIND = "email"
BACKOFF_FIRST = 5.0  # seconds before the first retry of a mailbox that failed
BACKOFF_MAX = 15 * 60.0


def _adapter() -> EmailAdapter:
    return cast(EmailAdapter, adapter_for(KIND))


async def _load(
    sessionmaker: Callable[[], AsyncSession], channel_id: int
) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
    async with sessionmaker() as session:
        channel = await session.get(Channel, channel_id)
        if channel is None or not channel.enabled or channel.kind != KIND:
            return None
        return dict(channel.settings), dict(channel.state) if channel.state else None


async def read_mailbox(
    sessionmaker: Callable[[], AsyncSession],
    channel_id: int,
    *,
    wake: Wake | None = None,
    keep_file: KeepFile | None = None,
) -> int:
    """Fetch and store everything new in the mailbox (batch after batch while the server
    has more); the messages stored, their attachments' bytes kept by `keep_file` (files.py).
    Raises MailboxError when it cannot be read now."""
    adapter = _adapter()
    stored = 0
    while True:
        loaded = await _load(sessionmaker, channel_id)
        if loaded is None:
            return stored
        settings, state = loaded
        try:
            result = await adapter.fetch_new(settings, state)
        except ValueError as exc:  # settings that cannot make a mailbox
            raise MailboxError(f"settings: {exc}") from None
        async with committed(sessionmaker, wake) as session:
            channel = await session.scalar(
                select(Channel).where(Channel.id == channel_id).with_for_update()
            )
            if channel is None:
                return stored
            for fetched in result.messages:
                try:
                    events = adapter.read(channel.settings, fetched.raw)
                except Exception as exc:  # one unreadable mail must not stop the mailbox
                    log.warning(
                        "mail_unreadable", channel_id=channel_id, uid=fetched.uid, error=repr(exc)
                    )
                    continue
                for event in events:
                    stored += await inbox.store(
                        session, channel=channel, event=event, keep_file=keep_file
                    )
            channel.state = dict(result.state)
        if result.reset:
            log.info("mailbox_reset", channel_id=channel_id, state=result.state)
        if not result.more:
            return stored


async def watch_mailbox(
    sessionmaker: Callable[[], AsyncSession],
    channel_id: int,
    *,
    wake: Wake | None = None,
    wait_timeout: float | None = None,
    keep_file: KeepFile | None = None,
) -> None:
    """Read, wait for mail, read again, until the channel is disabled or the task is
    cancelled; a failure is logged and retried with backoff (5 s doubling to 15 minutes)."""
    adapter = _adapter()
    delay = BACKOFF_FIRST
    while True:
        try:
            stored = await read_mailbox(sessionmaker, channel_id, wake=wake, keep_file=keep_file)
            if stored:
                log.info("mail_stored", channel_id=channel_id, count=stored)
            loaded = await _load(sessionmaker, channel_id)
            if loaded is None:
                return
            await adapter.wait_for_mail(loaded[0], loaded[1], timeout=wait_timeout)
            delay = BACKOFF_FIRST
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # MailboxError carries the server's words, never the password; anything else
            # (the database away) is named by its type and text alike.
            log.warning(
                "mailbox_unreadable",
                channel_id=channel_id,
                error=f"{type(exc).__name__}: {exc}",
                retry_in=delay,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX)


class Mailboxes:
    """The worker's mailbox tasks, kept in step with the enabled e-mail channels: `sync`
    starts one for a new or re-enabled channel, restarts one whose channel changed (new
    settings), and stops one whose channel was disabled."""

    def __init__(
        self,
        sessionmaker: Callable[[], AsyncSession],
        *,
        wake: Wake | None = None,
        wait_timeout: float | None = None,
        keep_file: KeepFile | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.wake = wake
        self.wait_timeout = wait_timeout
        self.keep_file = keep_file
        self.tasks: dict[int, tuple[datetime, asyncio.Task[None]]] = {}

    async def sync(self) -> None:
        async with self.sessionmaker() as session:
            rows = (
                await session.execute(
                    select(Channel.id, Channel.updated_at).where(
                        Channel.kind == KIND, Channel.enabled.is_(True)
                    )
                )
            ).all()
        wanted = {channel_id: updated for channel_id, updated in rows}
        for channel_id, (updated, task) in list(self.tasks.items()):
            if wanted.get(channel_id) != updated or task.done():
                await self._cancel(channel_id)
        for channel_id, updated in wanted.items():
            if channel_id not in self.tasks:
                task = asyncio.create_task(
                    watch_mailbox(
                        self.sessionmaker,
                        channel_id,
                        wake=self.wake,
                        wait_timeout=self.wait_timeout,
                        keep_file=self.keep_file,
                    ),
                    name=f"mailbox-{channel_id}",
                )
                self.tasks[channel_id] = (updated, task)
                log.info("mailbox_watched", channel_id=channel_id)

    async def read_all(self) -> int:
        """Each enabled mailbox read once, without waiting (`hotline worker --once`)."""
        async with self.sessionmaker() as session:
            ids = (
                await session.scalars(
                    select(Channel.id).where(Channel.kind == KIND, Channel.enabled.is_(True))
                )
            ).all()
        stored = 0
        for channel_id in ids:
            try:
                stored += await read_mailbox(
                    self.sessionmaker, channel_id, wake=self.wake, keep_file=self.keep_file
                )
            except MailboxError as exc:
                log.warning("mailbox_unreadable", channel_id=channel_id, error=str(exc))
        return stored

    async def _cancel(self, channel_id: int) -> None:
        _, task = self.tasks.pop(channel_id)
        task.cancel()
        # A reader cancelled inside IMAP IDLE may take its time (or never finish) closing
        # the connection: stopping waits a bounded time, never the IDLE timeout. Its work
        # is committed message by message, so nothing is lost by leaving it behind.
        done, _ = await asyncio.wait({task}, timeout=STOP_WAIT_SECONDS)
        if not done:
            log.warning("mailbox_reader_slow_to_stop", channel_id=channel_id)
            return
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task

    async def stop(self) -> None:
        for channel_id in list(self.tasks):
            await self._cancel(channel_id)
