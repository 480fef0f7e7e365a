"""Webhook intake on PostgreSQL: the common event as one self-committing statement.

Most deliveries are a citizen already known on the channel writing into their open
conversation, or a provider redelivering an event already stored. The portable path
(`inbox.receive` in a unit of work) makes about a dozen round trips for that (the channel,
the repeat check, the identity, the conversation, the message, the event log and the
conversation's times, BEGIN, COMMIT, the pool's ping); here the channel comes from a
per-process cache and the rest is `STORE_SQL` (hooks_sql.py), one statement of
data-modifying CTEs run in autocommit on a plain asyncpg pool (`AppState.hooks_pool`); a
citizen new to the channel (`STORE_SQL` finding no conversation) goes on to `CITIZEN_SQL`
(their contact, identity, conversation and message), as does a message giving a phone
number (the number joins the citizen's contact, or the citizen joins the contact owning
it).
A single statement is a transaction of its own: what it writes commits together or not at
all, and UNIQUE(channel_id, event_id) still stores an event once however many deliveries
race (the losers wait for the winner's commit, then do nothing). `STORE_SQL` runs through
`hooks_batch.HookWriter`, which writes the events arriving while its connections are busy
together, in one statement doing the same for each.

An echo of the account's own send is answered here when the send is already recorded
(the provider's id on the reply) or the event already stored: one lookup shared by the
echoes arriving together (`hooks_batch.EchoLookup`), made again `ECHO_RECHECK` later for
an echo that overtook the recording of its send's answer; any other echo (a send in doubt
that it confirms, a message sent from the provider's own tool) goes to `echoes.store_echo`.

Everything else (files to fetch from the provider's links, a known citizen without an
open conversation, other echoes, follows, e-mail threading,
several events in one request, handshakes on GET, a bad signature, an unknown or disabled
channel) is left to the portable path:
`receive_autocommit` returns None having written nothing.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import asyncpg

from hotline.channels.adapter import HookReply, InboundKind
from hotline.channels.citizens import clean_name, phones_of, written_numbers
from hotline.channels.files import wants_fetch
from hotline.channels.hooks_sql import CITIZEN_SQL, UNITS_SQL
from hotline.channels.inbox import OK, HookResult, message_values
from hotline.channels.mailthreads import threaded
from hotline.channels.registry import CASE_CHANNEL, adapter_for
from hotline.db import utcnow

if TYPE_CHECKING:
    from hotline.channels.hooks_batch import HookWriter

# How long this process trusts a channel row it read (its kind, settings and being
# enabled). A channel disabled or re-keyed by another process may be used for this long;
# this process forgets it at once (`forget_channel`), and a signature that fails against
# the cached settings is always checked again against the database's.
CHANNEL_TTL = 5.0

# How long this process uses the units' numbers it read: a number given to a unit is
# told apart from citizens' numbers in messages within this many seconds.
UNITS_TTL = 10.0

# An echo not recognised at first is looked up once more after this long: providers send
# the echo as they answer the send, so it often arrives while the worker is recording that
# answer (the provider's id on the reply), and the portable path's transaction would only
# wait for that record to find the same thing (about half the echoes of a busy outbox).
ECHO_RECHECK = 0.1

# How many times `CITIZEN_SQL` runs for one delivery when other deliveries keep changing
# what it read (each run after the first sees what they committed).
CITIZEN_RUNS = 5


@dataclass(frozen=True)
class _Channel:
    id: int
    kind: str
    settings: Mapping[str, Any]


_channels: dict[tuple[str, int], tuple[float, _Channel]] = {}


def forget_channel(channel_id: int) -> None:
    """A channel changed (settings, disabled): this process reads it again."""
    for key in [k for k in _channels if k[1] == channel_id]:
        _channels.pop(key, None)


async def _unit_numbers(writer: HookWriter) -> list[str]:
    """The units' numbers (a number of theirs written in a message is no citizen's), read
    at most every UNITS_TTL seconds: a query of its own for each message with a number in
    it took the hooks' connections from the writer (webhook intake fell from ~2,600 to
    ~350 deliveries/s in the benchmark, whose messages often hold one)."""
    now = time.monotonic()
    expires, numbers = writer.unit_numbers
    if expires <= now:
        numbers = [row["phone"] for row in await writer.pool.fetch(UNITS_SQL)]
        writer.unit_numbers = (now + UNITS_TTL, numbers)
    return numbers


async def _channel(pool: asyncpg.Pool, database: str, channel_id: int) -> _Channel | None:
    key = (database, channel_id)
    cached = _channels.get(key)
    now = time.monotonic()
    if cached is not None and cached[0] > now:
        return cached[1]
    row = await pool.fetchrow(
        "SELECT kind, settings FROM channel WHERE id = $1 AND enabled", channel_id
    )
    if row is None:
        _channels.pop(key, None)
        return None
    settings = row["settings"]
    channel = _Channel(
        channel_id, row["kind"], json.loads(settings) if isinstance(settings, str) else settings
    )
    _channels[key] = (now + CHANNEL_TTL, channel)
    return channel


async def receive_autocommit(
    writer: HookWriter | None,
    *,
    database: str,
    channel_id: int,
    method: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
    wake: Callable[[], None] | None = None,
) -> HookResult | None:
    """`inbox.receive` for the common POST on PostgreSQL, as one self-committing statement:
    verified with the channel's settings first, then stored once (a repeat answers 200 and
    changes nothing); `wake` is called after a message committed. None, having written
    nothing, when the request needs `inbox.receive` in a unit of work instead."""
    if writer is None or method != "POST":
        return None
    pool = writer.pool
    channel = await _channel(pool, database, channel_id)
    if channel is None:
        return None  # unknown or disabled: the portable path says so
    adapter = adapter_for(channel.kind)
    if getattr(adapter, "pulls", False):
        return None
    if not adapter.verify(channel.settings, headers, body):
        # Perhaps the secret changed in another process: the portable path reads the
        # channel afresh, and refuses the request if it is still wrong.
        forget_channel(channel_id)
        return None
    handshake = getattr(adapter, "handshake", None)
    if handshake is not None:
        reply: HookReply | None = handshake(channel.settings, method, query, headers, body)
        if reply is not None:
            return HookResult(reply)
    try:
        events = adapter.read(channel.settings, body)
    except ValueError:
        return None
    if len(events) != 1:
        return None
    event = events[0]
    if event.kind == InboundKind.ECHO:
        # Most echoes are of a send the worker has recorded (the provider's id on the
        # reply), or is recording: answered at the cost of a shared lookup, or two. Any
        # other (a send in doubt, the provider's own tool) takes the portable path.
        try:
            known = await writer.echoes.known(channel_id, event.event_id)
            if not known:
                await asyncio.sleep(ECHO_RECHECK)
                known = await writer.echoes.known(channel_id, event.event_id)
        except (asyncpg.PostgresError, OSError):
            return None
        return HookResult(OK, 0) if known else None
    if (
        event.kind != InboundKind.MESSAGE
        or threaded(event)
        or wants_fetch(event)  # its files' fetch job is queued by the portable path
    ):
        return None
    phones = phones_of(event, await _unit_numbers(writer) if written_numbers(event) else [])
    values = message_values(event)
    name = clean_name(event.user_name)
    params = (
        channel_id,
        CASE_CHANNEL[channel.kind].value,
        event.user_id,
        event.event_id,
        values["kind"],
        values["text"],
        values["subject"],
        json.dumps(values["attachments"], ensure_ascii=False),
        values["lat"],
        values["long"],
        values["source"],
        values["automatic"],
        values["created_at"],
        utcnow(),
        name,
    )
    if not phones:
        # Written with the events arriving at the same moment (channels/hooks_batch.py),
        # whoever the citizen: most events are a known citizen's, and which web process
        # stored their last one is chance, so a guess made per process would send many of
        # them one by one. A new citizen's costs one batched lookup finding nothing.
        stored = await writer.store(params[:14])
        if stored.message_id is not None:
            return _stored(wake)
        if stored.seen or stored.conversation_id is not None:
            # Stored before, or by a delivery that committed while this one waited on it.
            return HookResult(OK, 0)
    for _ in range(CITIZEN_RUNS):
        row = await pool.fetchrow(CITIZEN_SQL, *params, phones)
        assert row is not None
        if row["message_id"] is not None:
            return _stored(wake)
        if row["way"] == "again":
            # Another delivery for this citizen, or giving their number, committed while
            # this one ran: once more, seeing what it wrote.
            continue
        if row["way"] == "seen" or row["has_conv"]:
            # Stored before, or by a delivery that committed while this one waited on it.
            return HookResult(OK, 0)
        if row["way"] != "new":
            return None  # a case CITIZEN_SQL leaves alone: the portable path
        # Another delivery created the citizen while this one waited on it (its identity
        # or conversation, now committed): once more, finding them.
    return None  # raced every time: the portable path, in a transaction of its own


def _stored(wake: Callable[[], None] | None) -> HookResult:
    if wake is not None:
        wake()
    return HookResult(OK, 1)
