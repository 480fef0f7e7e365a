"""Webhook intake on PostgreSQL: the common event as one self-committing statement.

Most deliveries are a citizen already known on the channel writing into their open
conversation, or a provider redelivering an event already stored. The portable path
(`inbox.receive` in a unit of work) makes about a dozen round trips for that (the channel,
the repeat check, the identity, the conversation, the message, the event log and the
conversation's times, BEGIN, COMMIT, the pool's ping); here the channel comes from a
per-process cache and the rest is `STORE_SQL`, one statement of data-modifying CTEs run in
autocommit on a plain asyncpg pool (`AppState.hooks_pool`); a citizen new to the channel
(`STORE_SQL` finding no conversation) goes on to `CITIZEN_SQL` (their contact, identity,
conversation and message), as does a message giving a phone number (the number joins the
citizen's contact, or the citizen joins the contact owning it).
A single statement is a transaction of its own: what it writes commits together or not at
all, and UNIQUE(channel_id, event_id) still stores an event once however many deliveries
race (the losers wait for the winner's commit, then do nothing). `STORE_SQL` runs through
`hooks_batch.HookWriter`, which writes the events arriving while its connections are busy
together, in one statement doing the same for each.

Everything else (files to fetch from the provider's links, a known citizen without an
open conversation, echoes, follows, e-mail threading,
several events in one request, handshakes on GET, a bad signature, an unknown or disabled
channel) is left to the portable path:
`receive_autocommit` returns None having written nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import asyncpg

from hotline.channels.adapter import HookReply, InboundKind
from hotline.channels.citizens import clean_name, phones_of, written_numbers
from hotline.channels.files import wants_fetch
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


# The message, the conversation's times and the live event, after a CTE `conv` giving the
# conversation. $1 channel id, $2 identity channel ('zalo', ...), $3 external user id,
# $4 event id, $5 kind, $6 text, $7 subject, $8 attachments (JSON), $9 lat, $10 long,
# $11 source, $12 automatic, $13 the message's time, $14 now; CITIZEN_SQL: $15 the
# citizen's name. `{contact}`: the conversation's contact after the message (the statement
# may move it to another card: a conversation is updated once in a statement).
_MESSAGE_TEMPLATE = """
msg AS (
    INSERT INTO message (
        channel_id, conversation_id, direction, kind, text, subject, event_id, attachments,
        lat, long, status, attempts, source, automatic, created_at
    )
    SELECT $1, conv.id, 'in', $5, $6, $7, $4, $8::jsonb, $9::float8, $10::float8,
           'received', 0, $11, $12, $13
    FROM conv
    WHERE NOT EXISTS (SELECT 1 FROM seen)
    ON CONFLICT (channel_id, event_id) DO NOTHING
    RETURNING id, conversation_id
), touched AS (
    UPDATE conversation c
    SET last_message_at = GREATEST(c.last_message_at, $13),
        last_inbound_at = GREATEST(c.last_inbound_at, $13),
        following = true{contact}
    -- By the key's value, not a join: a kept plan made on small tables must not walk
    -- the conversations to find it (tests/channels/test_hook_plan.py).
    WHERE c.id = (SELECT conversation_id FROM msg)
    RETURNING c.id
), logged AS (
    -- The live event, committed with the message (hotline/events.py).
    INSERT INTO event (at, kind, case_code, unit_ids, data)
    SELECT $14, 'conversation.message', NULL, '[]'::jsonb,
           jsonb_build_object(
               'conversation_id', msg.conversation_id, 'channel_id', $1::bigint,
               'message_id', msg.id, 'direction', 'in'
           )
    FROM msg
), queued AS (
    -- A citizen's own text is read by triage after it is stored (channels/inbound.py).
    INSERT INTO job (kind, payload, key, status, run_at, attempts, max_attempts, created_at)
    SELECT 'channel_message_in', jsonb_build_object('message_id', msg.id),
           'channel_message_in:' || msg.id, 'queued', $14, 0, 5, $14
    FROM msg
    WHERE NOT $12::boolean AND btrim($6::text) <> ''
    ON CONFLICT (key) DO NOTHING
)
"""
_MESSAGE_CTES = _MESSAGE_TEMPLATE.replace("{contact}", "")

# A citizen known on this channel kind, writing into their open conversation.
STORE_SQL = (
    """
WITH conv AS (
    SELECT c.id FROM conversation c
    WHERE c.channel_id = $1 AND c.external_user_id = $3 AND c.status = 'open'
      -- A staff notice open on the number is never written into (citizens.leave_staff):
      -- no row here sends the event to the portable path, which closes it.
      AND c.audience = 'citizen'
      AND EXISTS (
          SELECT 1 FROM contact_identity i WHERE i.channel = $2 AND i.external_id = $3
      )
    -- The conversation is locked before the message's key, as a batch of events locks
    -- them (channels/hooks_batch.py): statements never wait on each other in a cycle.
    FOR UPDATE OF c
), seen AS (
    SELECT 1 FROM message WHERE channel_id = $1 AND event_id = $4
),"""
    + _MESSAGE_CTES
    + """
SELECT (SELECT id FROM msg) AS message_id,
       (SELECT id FROM conv) AS conversation_id,
       EXISTS (SELECT 1 FROM seen) AS seen,
       (SELECT count(*) FROM touched) AS touched
"""
)

# A citizen new to this channel kind, or one who gave a phone number: their message with
# what it links, in one statement. `way` says which case applies:
# - 'known': their identity and open citizen conversation exist (citizens._link_phones: an
#   unknown number is added to their contact; one another contact owns moves them to it,
#   if theirs has no number);
# - 'new': neither exists: a contact (the one owning a number they wrote, else a new one
#   given the first number), their identity and conversation.
# Anything else (a closed or staff conversation) writes nothing: the portable path does
# it. Another delivery creating the same identity at once makes this one write nothing
# too (the caller runs it again, which then finds what that one created). `has_conv`
# without a message: another delivery of the same event stored it meanwhile. 'again':
# another delivery changed what this one read (it wrote into the citizen's conversation,
# or took the number for another card) after its snapshot; nothing of the message is
# written, and run again it sees what that one wrote, as if they came one at a time.
# A new identity names its contact before the contact row is written: foreign keys are
# checked at the end of the statement. $16: the numbers, proven ones first (citizens.phones_of).
CITIZEN_SQL = (
    """
WITH owner AS (
    -- The numbers' owners by index condition, never a join a kept plan could make a scan.
    SELECT p.contact_id FROM contact_phone p
    WHERE p.e164 = ANY ($16::text[])
    ORDER BY array_position($16::text[], p.e164::text) LIMIT 1
), ident AS (
    SELECT contact_id FROM contact_identity WHERE channel = $2 AND external_id = $3
), open_conv AS (
    -- `version`: the row as locked, which is its newest version when this statement
    -- waited for another writing into it (READ COMMITTED), not the one the rest of this
    -- statement sees.
    SELECT c.id, c.audience, c.xmin::text AS version FROM conversation c
    WHERE c.channel_id = $1 AND c.external_user_id = $3 AND c.status = 'open'
    FOR UPDATE OF c
), seen AS (
    SELECT 1 FROM message WHERE channel_id = $1 AND event_id = $4
), plan AS (
    SELECT CASE
        WHEN EXISTS (SELECT 1 FROM seen) THEN 'seen'
        -- Another delivery wrote into the citizen's conversation after this statement's
        -- snapshot was taken (this one waited for its lock): what it read of the citizen
        -- (their card, its numbers, the event being new) may be out of date, so it
        -- writes nothing and is run again, seeing it.
        WHEN (SELECT version FROM open_conv) IS DISTINCT FROM (
            SELECT c.xmin::text FROM conversation c WHERE c.id = (SELECT id FROM open_conv)
        ) THEN 'again'
        WHEN EXISTS (SELECT 1 FROM ident)
             AND EXISTS (SELECT 1 FROM open_conv WHERE audience = 'citizen')
            THEN 'known'
        WHEN NOT EXISTS (SELECT 1 FROM ident) AND NOT EXISTS (SELECT 1 FROM open_conv)
            THEN 'new'
    END AS way
), fresh AS (
    SELECT COALESCE(
               (SELECT contact_id FROM owner),
               nextval(pg_get_serial_sequence('contact', 'id'))
           ) AS id,
           NOT EXISTS (SELECT 1 FROM owner) AS made
    FROM plan WHERE way = 'new'
), new_ident AS (
    INSERT INTO contact_identity (contact_id, channel, external_id, display_name)
    SELECT id, $2, $3, $15 FROM fresh
    ON CONFLICT (channel, external_id) DO NOTHING
    RETURNING contact_id
), person AS (
    INSERT INTO contact (id, name, address, note, created_at)
    SELECT new_ident.contact_id, $15, '', '', $14 FROM new_ident, fresh WHERE fresh.made
    RETURNING id
), new_conv AS (
    -- Its times set here: `touched` below cannot see a row this statement inserts.
    INSERT INTO conversation (
        channel_id, contact_id, external_user_id, status, following, last_message_at,
        last_inbound_at, created_at
    )
    SELECT $1, contact_id, $3, 'open', true, GREATEST($14, $13), $13, $14 FROM new_ident
    ON CONFLICT (channel_id, external_user_id) WHERE status = 'open' DO NOTHING
    RETURNING id
), claim AS (
    -- A number nobody owns joins the citizen's contact (the first one given).
    SELECT ident.contact_id FROM ident, plan
    WHERE plan.way = 'known' AND EXISTS (SELECT 1 FROM open_conv)
    UNION ALL
    SELECT person.id FROM person, new_conv
), phone AS (
    INSERT INTO contact_phone (e164, contact_id)
    SELECT $16[1], claim.contact_id FROM claim
    WHERE cardinality($16::text[]) > 0 AND NOT EXISTS (SELECT 1 FROM owner)
    ON CONFLICT (e164) DO NOTHING
    RETURNING e164
), taken AS (
    -- Another citizen's delivery gave the number to their card after this statement's
    -- snapshot: one at a time, this citizen would have joined that card (a known one
    -- whose card has no number) or stayed apart from it, so the message is not stored
    -- here and the statement runs again, finding the number's owner.
    SELECT 1 FROM claim
    WHERE cardinality($16::text[]) > 0 AND NOT EXISTS (SELECT 1 FROM owner)
      AND NOT EXISTS (SELECT 1 FROM phone)
), conv AS (
    SELECT open_conv.id FROM open_conv, plan
    WHERE plan.way = 'known' AND NOT EXISTS (SELECT 1 FROM taken)
    UNION ALL
    SELECT id FROM new_conv WHERE NOT EXISTS (SELECT 1 FROM taken)
), move AS (
    -- A known citizen writing a number another card owns, their own card having none
    -- and no other identity: their identity and its card's conversations move to that
    -- card (citizens._link_phones), with the message: not at all if it is not stored.
    SELECT owner.contact_id AS to_id, ident.contact_id AS from_id
    FROM owner, ident, plan
    WHERE plan.way = 'known' AND owner.contact_id <> ident.contact_id
      AND NOT EXISTS (
          SELECT 1 FROM contact_phone p WHERE p.contact_id = (SELECT contact_id FROM ident)
      )
      AND NOT EXISTS (
          SELECT 1 FROM contact_identity o
          WHERE o.contact_id = (SELECT contact_id FROM ident)
            AND (o.channel, o.external_id) <> ($2, $3)
      )
),"""
    + _MESSAGE_TEMPLATE.replace(
        "{contact}", ",\n        contact_id = COALESCE((SELECT to_id FROM move), c.contact_id)"
    )
    + """, moved_ident AS (
    UPDATE contact_identity i SET contact_id = (SELECT to_id FROM move)
    WHERE i.channel = $2 AND i.external_id = $3
      AND EXISTS (SELECT 1 FROM move) AND EXISTS (SELECT 1 FROM msg)
), moved_convs AS (
    -- The open conversation itself moves in `touched` (a row is updated once a statement).
    UPDATE conversation c SET contact_id = (SELECT to_id FROM move)
    WHERE c.contact_id = (SELECT from_id FROM move) AND EXISTS (SELECT 1 FROM msg)
      AND c.id <> ALL (ARRAY(SELECT id FROM open_conv))
)
SELECT (SELECT id FROM msg) AS message_id,
       CASE WHEN EXISTS (SELECT 1 FROM taken) THEN 'again' ELSE (SELECT way FROM plan) END
           AS way,
       EXISTS (SELECT 1 FROM seen) AS seen, EXISTS (SELECT 1 FROM conv) AS has_conv
"""
)


# The units' numbers (citizens.phones_of), read only for a message whose text holds one.
UNITS_SQL = "SELECT phone FROM unit WHERE phone IS NOT NULL"


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
    if (
        event.kind != InboundKind.MESSAGE
        or threaded(event)
        or wants_fetch(event)  # its files' fetch job is queued by the portable path
    ):
        return None
    units = await pool.fetch(UNITS_SQL) if written_numbers(event) else []
    phones = phones_of(event, [unit["phone"] for unit in units])
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
