"""The durable outbox: a reply is a `message` row (the state) plus a `channel_send` job (the
wake-up), written in the transaction that decides to send it; the worker sends it.

A send runs in three steps, each its own transaction, so no transaction is open while the
provider is called: (1) mark the message `sending` and count the attempt, (2) call the
provider, (3) record `sent` with the provider's id, or `queued` for a retry with backoff, or
`failed` with the reason. The worker takes the sends in batches (sender.py): one
transaction makes step 1 of a whole batch, and step 3 is recorded for every send that has
its answer, together with its job's outcome. What can be guaranteed:

- Never shown sent when it wasn't: only step 3 after the provider's acceptance, or the
  provider's echo of a send (echoes.py), marks a message sent. An echo confirms a reply
  with its text only if it can be that reply's: while two replies with the same words are
  unconfirmed and one still waits for its answer, the echo is placed only once every send
  has its outcome; a reply an echo confirmed whose own answer then shows the echo was
  another's (the provider refused it, or accepted it under another id) is corrected, and
  the echo placed again.
- Never silently lost: the job survives a crash; a message that cannot be sent ends
  `failed` with its reason, shown in the conversation.
- Never sent twice by us: one row per idempotency key, one job per row, and a row is sent
  only from `queued`, or from `sending` (a send whose outcome is unknown: the worker stopped
  after step 1, or the provider did not answer) when resending cannot double it: the
  provider drops repeats of the key (`idempotent_send`), or no echo of the first send came
  within its grace (`doubt_grace`). A reply queued for a retry after a 5xx that came after
  delivery is confirmed by its echo, and not sent again, when the echo comes before the
  retry. A citizen could receive a reply twice only from a provider that delivered but
  never echoed within the grace, or delivered, answered an error, and echoed only after
  the retry went out (the conversation then shows both deliveries).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.channels.adapter import (
    Adapter,
    HttpClient,
    Outgoing,
    PermanentSendError,
    SendError,
    SendInDoubt,
    Sent,
    TokenExpired,
)
from hotline.channels.mailthreads import reply_thread
from hotline.channels.models import (
    AWAITING_ECHO,
    IN_DOUBT,
    Channel,
    Conversation,
    Direction,
    Message,
    MessageStatus,
)
from hotline.channels.registry import adapter_for
from hotline.channels.send_client import DEFAULT_TIMEOUT, send_client, send_timeout
from hotline.channels.sms import segments
from hotline.db import dialect_name, insert_for, utcnow
from hotline.events import DomainEvent, record_event
from hotline.jobs.runs import JobRun
from hotline.jobs.service import enqueue

CHANNEL_SEND = "channel_send"
MAX_SENDS = 10  # calls to the provider for one message (1 s, 2 s, ... 256 s apart: sender.py)
JOB_ATTEMPTS = 16  # room for the waits of a send in doubt besides the calls
IN_DOUBT_GRACE = timedelta(minutes=2)  # Zalo retries a webhook first after ~30 s
ANSWER_MARGIN = timedelta(seconds=5)  # a busy worker's step 3 after the answer came
AUTOMATIC_SOURCES = frozenset({"ack", "auto_answer"})
UNFOLLOWED = "người dân đã bỏ theo dõi kênh: tin không được gửi"


def sms_segments(channel: Channel | None, text: str) -> int | None:
    """The parts an SMS reply goes out in (None on other channels), as the channel's
    gateway will send it (without diacritics when it needs GSM-7: sms.py)."""
    if channel is None or channel.kind != "sms":
        return None
    return segments(text, bool(channel.settings.get("gsm7_only"))).parts


async def queue_message(
    session: AsyncSession,
    *,
    conversation: Conversation,
    text: str,
    author_id: int | None,
    source: str,
    key: str | None = None,
) -> Message:
    """Write a reply and its send job in the caller's transaction. A repeated `key` returns
    the message queued the first time (nothing new is queued)."""
    key = key or uuid4().hex
    now = utcnow()
    text = text.replace("\x00", "")
    channel = await session.get(Channel, conversation.channel_id)
    message_id = await session.scalar(
        insert_for(dialect_name(session))(Message)
        .values(
            channel_id=conversation.channel_id,
            conversation_id=conversation.id,
            direction=Direction.OUT,
            kind="text",
            text=text,
            attachments=[],
            status=MessageStatus.QUEUED,
            segments=sms_segments(channel, text),
            idempotency_key=key,
            attempts=0,
            author_id=author_id,
            source=source,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(Message.id)
    )
    if message_id is not None:
        await enqueue(
            session,
            kind=CHANNEL_SEND,
            key=f"{CHANNEL_SEND}:{message_id}",
            payload={"message_id": message_id},
            max_attempts=JOB_ATTEMPTS,
        )
        if now > conversation.last_message_at:
            conversation.last_message_at = now
        _changed(session, conversation, message_id)
    message = await session.scalar(select(Message).where(Message.idempotency_key == key))
    assert message is not None
    return message


def _changed(session: AsyncSession, conversation: Conversation | int, message_id: int) -> None:
    conversation_id = conversation if isinstance(conversation, int) else conversation.id
    record_event(
        session,
        DomainEvent(
            kind="conversation.message",
            data={"conversation_id": conversation_id, "message_id": message_id, "direction": "out"},
        ),
    )


@dataclass
class Prepared:
    channel_id: int
    adapter: Adapter
    settings: dict[str, Any]
    outgoing: Outgoing


def answer_timeout(settings: dict[str, Any]) -> float:
    """The channel's `send_timeout`: how long a send waits for the provider's answer."""
    try:
        return float(settings.get("send_timeout") or DEFAULT_TIMEOUT)
    except (TypeError, ValueError):
        return DEFAULT_TIMEOUT


def answer_window(settings: dict[str, Any]) -> timedelta:
    """How long after its step 1 a send's outcome may still be unrecorded by a working
    worker: the connect and answer timeouts (send_client.py), and a margin for step 3."""
    timeout = answer_timeout(settings)
    return timedelta(seconds=min(timeout, 5.0) + timeout) + ANSWER_MARGIN


def doubt_grace(settings: dict[str, Any]) -> timedelta:
    """How long a send in doubt waits for its echo before it is sent again: longer than
    `IN_DOUBT_GRACE` only with a long `send_timeout`, so that it always outlasts an echo set
    aside for one answer window (echoes.py)."""
    return max(IN_DOUBT_GRACE, 2 * answer_window(settings))


def _fail(message: Message, reason: str) -> None:
    message.status = MessageStatus.FAILED
    message.error = reason


async def load_sends(
    session: AsyncSession, message_ids: Sequence[int]
) -> dict[int, tuple[Message, Channel, Conversation]]:
    """The messages to send with their channels and conversations, in one round trip; only
    the messages are locked (a channel's rows are read once for all its messages)."""
    rows = await session.execute(
        select(Message, Channel, Conversation)
        .join(Channel, Channel.id == Message.channel_id)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.id.in_(message_ids))
        .order_by(Message.id)
        .with_for_update(of=Message)
    )
    return {message.id: (message, channel, conversation) for message, channel, conversation in rows}


async def begin_send(
    session: AsyncSession,
    message: Message,
    channel: Channel,
    conversation: Conversation,
    run: JobRun,
) -> Prepared | str | None:
    """Step 1 (the message locked by `load_sends`): the send to make, a reason to wait, or
    None when there is nothing to do."""
    if message.status not in (MessageStatus.QUEUED, MessageStatus.SENDING):
        return None
    adapter = adapter_for(channel.kind)
    now = utcnow()
    if not channel.enabled:
        _fail(message, "kênh đã bị tắt")
        _changed(session, conversation, message.id)
        return None
    if not conversation.following:
        # Unfollowed (Zalo) or unsubscribed (Viber): the provider would refuse it or drop
        # it, so it is not sent, and the operator sees why.
        _fail(message, UNFOLLOWED)
        _changed(session, conversation, message.id)
        return None
    if message.status == MessageStatus.SENDING and not adapter.idempotent_send:
        # The last send's outcome is unknown: its echo, if the provider delivered it, marks
        # it sent (echoes.py). Resend only once the echo had time to come.
        started = message.attempted_at or now
        if now < started + doubt_grace(channel.settings):
            if run.last:
                _fail(message, f"{IN_DOUBT}: không rõ đã gửi được chưa")
                _changed(session, conversation, message.id)
                return None
            return "chờ xác nhận của lần gửi trước"
    if message.attempts >= MAX_SENDS:
        _fail(message, message.error or "đã hết số lần thử gửi")
        _changed(session, conversation, message.id)
        return None
    message.status = MessageStatus.SENDING
    message.attempts += 1
    message.attempted_at = now
    message.error = None  # no outcome yet for this attempt (echoes.py tells them apart)
    timeout = answer_timeout(channel.settings)
    subject, refs, reply_to = (
        await reply_thread(session, conversation, message.id)
        if channel.kind == "email"
        else (None, (), None)
    )
    return Prepared(
        channel_id=channel.id,
        adapter=adapter,
        settings=dict(channel.settings),
        outgoing=Outgoing(
            idempotency_key=message.idempotency_key or str(message.id),
            user_id=conversation.external_user_id,
            text=message.text,
            last_inbound_at=conversation.last_inbound_at,
            # Not an operator's reply: e-mail marks it so auto-responders stay quiet.
            automatic=message.source in AUTOMATIC_SOURCES,
            subject=subject,
            thread_refs=refs,
            reply_to=reply_to,
            timeout=send_timeout(timeout),
        ),
    )


async def _refresh(run: JobRun, send: Prepared, http: HttpClient) -> dict[str, Any]:
    """New credentials, taken under the channel's row lock (SQLite: its one writer) and
    stored before they are used: a single-use refresh token is spent exactly once. The
    refresh runs to its end even if the send waiting for it is cancelled (the worker
    stopping, a failed round): once the request is out, the old refresh token is spent,
    and the new pair lost with the cancelled task would leave the channel unusable."""
    refresh = getattr(send.adapter, "refresh", None)
    if refresh is None:
        raise PermanentSendError("mã truy cập hết hạn; cần cấp lại trong cấu hình kênh")
    return await asyncio.shield(_refresh_and_store(run, send, http, refresh))


async def _refresh_and_store(
    run: JobRun, send: Prepared, http: HttpClient, refresh: Any
) -> dict[str, Any]:
    async with run.steps() as session:
        channel = await session.scalar(
            select(Channel).where(Channel.id == send.channel_id).with_for_update()
        )
        assert channel is not None
        current = dict(channel.settings)
        if current.get("access_token") != send.settings.get("access_token"):
            return current  # another worker refreshed it meanwhile
        fresh = await refresh(current, http)
        channel.settings = {**current, **fresh}
        channel.updated_at = utcnow()
        return dict(channel.settings)


async def call_provider(run: JobRun, send: Prepared) -> Sent | SendError:
    """Step 2: the provider's answer, or the error saying whether to retry."""
    http = send_client()
    try:
        try:
            return await send.adapter.send(send.settings, send.outgoing, http)
        except TokenExpired:
            send.settings = await _refresh(run, send, http)
            return await send.adapter.send(send.settings, send.outgoing, http)
    except SendError as exc:
        return exc


@dataclass(frozen=True)
class Misplaced:
    """An echo that confirmed a reply whose answer then showed it was another send's: placed
    again (echoes.py). `own_id`: the reply's own provider id, if it was accepted."""

    message: Message
    echo_id: str
    echo_at: datetime | None
    own_id: str | None


def _check_echo(
    session: AsyncSession, message: Message, outcome: Sent | SendError, misplaced: list[Misplaced]
) -> None:
    """A reply its echo confirmed before its answer came: the answer may show the echo was
    another send's (the provider gave this one another id, or refused this, its only send)."""
    echo_id = message.provider_id
    if echo_id is None:
        return
    if isinstance(outcome, Sent):
        if not outcome.provider_id or outcome.provider_id == echo_id:
            return
        misplaced.append(Misplaced(message, echo_id, message.sent_at, outcome.provider_id))
        message.provider_id = outcome.provider_id
    elif not outcome.retryable and message.attempts == 1:
        misplaced.append(Misplaced(message, echo_id, message.sent_at, None))
        _fail(message, outcome.reason)
        message.provider_id = message.sent_at = None
    else:
        return  # a retryable error: the echo may well be of this send
    _changed(session, message.conversation_id, message.id)


def record_outcome(
    session: AsyncSession,
    message: Message | None,
    send: Prepared,
    outcome: Sent | SendError,
    run: JobRun,
    misplaced: list[Misplaced],
) -> str | None:
    """Step 3 (the message locked again): record the outcome; the reason to retry, or None
    when done. An echo that had confirmed it wrongly goes to `misplaced`."""
    if message is None:
        return None
    if message.status == MessageStatus.SENT:
        _check_echo(session, message, outcome, misplaced)  # its echo confirmed it meanwhile
        return None
    if isinstance(outcome, Sent):
        message.status = MessageStatus.SENT
        message.provider_id = outcome.provider_id
        if isinstance(outcome.details.get("segments"), int):
            message.segments = outcome.details["segments"]  # as sent (the settings then)
        message.sent_at = utcnow()
        message.error = None
        _changed(session, message.conversation_id, message.id)
        return None
    reason = outcome.reason
    # A retryable error while an echo of its text waits to be placed: this send may be the
    # one that was delivered (a 5xx after delivery), so it is in doubt, not resent at once.
    doubtful = isinstance(outcome, SendInDoubt) or (
        outcome.retryable and message.error == AWAITING_ECHO
    )
    if doubtful and not send.adapter.idempotent_send:
        message.error = f"{IN_DOUBT}: {reason}"  # stays `sending` until its echo or the grace
        if run.last:
            message.status = MessageStatus.FAILED
            _changed(session, message.conversation_id, message.id)
            return None
        return reason
    if outcome.retryable and message.attempts < MAX_SENDS and not run.last:
        message.status = MessageStatus.QUEUED
        message.error = reason
        return reason
    _fail(message, reason)
    _changed(session, message.conversation_id, message.id)
    return None
