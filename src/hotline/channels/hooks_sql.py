"""The statements that store a webhook's event on PostgreSQL (channels/inbox_pg.py):
`STORE_SQL`, a known citizen writing into their open conversation (also run by
hooks_batch.py, whose `BATCH_SQL` does the same for many events), and `CITIZEN_SQL`, a
citizen new to the channel or giving a phone number."""

from __future__ import annotations

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


# Which of a batch of echoes (the account's own sends reported back: channels/echoes.py)
# are of a send already recorded, by the provider's id on an outgoing message of the
# channel, or repeat an event already stored: they are answered and change nothing. The
# others are stored, or confirm a send in doubt, on the portable path. $1 channel ids,
# $2 event ids. Each echo's lookups by index, row by row (LATERAL ... LIMIT 1): written
# with EXISTS, the plan kept from when the table was small hashed the whole of it.
ECHOES_SQL = """
SELECT t.n FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY AS t(channel_id, event_id, n)
CROSS JOIN LATERAL (
    (
        SELECT 1 FROM message m
        WHERE m.provider_id = t.event_id AND m.channel_id = t.channel_id
          AND m.direction = 'out'
        LIMIT 1
    )
    UNION ALL
    (SELECT 1 FROM message m WHERE m.channel_id = t.channel_id AND m.event_id = t.event_id LIMIT 1)
    LIMIT 1
) found
"""
