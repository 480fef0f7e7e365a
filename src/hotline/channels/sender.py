"""The `channel_send` job, in batches: the outbox's three steps (outbox.py) for many
replies at once, so that a worker spends its time sending rather than in round trips.

- Step 1 for the whole batch in one transaction: the messages, their channels and
  conversations read in one statement (the messages locked), each marked `sending`; the
  jobs with nothing to send (already sent, channel off, a send in doubt still waiting for
  its echo) are settled in the same transaction.
- Step 2 concurrently, at most `CHANNEL_SENDS` requests at once per channel (a provider
  limits an account's parallel requests), on the process's one HTTP client.
- Step 3 whenever answers have come: the messages that have theirs are locked again and
  their outcomes recorded in one transaction, together with their jobs' outcomes (done,
  or retried after `RETRY_BASE` seconds doubled per attempt). A slow answer holds up only
  its own message, never the batch's others.

A worker that dies anywhere leaves each job leased (taken again when the lease runs out)
and each message `queued`, `sending` (a send in doubt: outbox.py) or recorded: nothing is
lost and nothing sent twice, as with one send at a time.
"""

from __future__ import annotations

import asyncio
import weakref

from sqlalchemy import select

from hotline.channels.adapter import SendError, Sent
from hotline.channels.echoes import place_again
from hotline.channels.models import Message
from hotline.channels.outbox import (
    Misplaced,
    Prepared,
    begin_send,
    call_provider,
    load_sends,
    record_outcome,
)
from hotline.jobs.runs import Batch, JobRun, batched

CHANNEL_SENDS = 32  # requests in flight at once to one channel's provider, per worker
# A provider's 5xx or rate limit usually passes within seconds: a reply is retried after
# 1 s, 2 s, 4 s... (the other jobs' backoff starts at 10 s); its MAX_SENDS calls (outbox.py)
# ride out about 8 minutes of an outage. Waits for a send in doubt's echo use the same
# schedule; JOB_ATTEMPTS leaves room for IN_DOUBT_GRACE besides the calls.
RETRY_BASE = 1.0

# One set of limits per event loop (a semaphore belongs to the loop it first waited in).
_limits: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, asyncio.Semaphore]] = (
    weakref.WeakKeyDictionary()
)


def _limit(channel_id: int) -> asyncio.Semaphore:
    per_channel = _limits.setdefault(asyncio.get_running_loop(), {})
    sem = per_channel.get(channel_id)
    if sem is None:
        sem = per_channel[channel_id] = asyncio.Semaphore(CHANNEL_SENDS)
    return sem


async def _send(run: JobRun, send: Prepared) -> Sent | SendError:
    async with _limit(send.channel_id):
        return await call_provider(run, send)


@batched
async def deliver(batch: Batch) -> None:
    """The `channel_send` jobs of a batch: each reply to its provider (see the module)."""
    runs = {run.id: run for run in batch.runs}
    message_of = {
        run.id: int(p["message_id"]) for run, p in zip(batch.runs, batch.payloads, strict=True)
    }
    prepared: dict[int, Prepared] = {}
    async with batch.steps() as session:
        found = await load_sends(session, list(message_of.values()))
        settled: list[tuple[int, str | None]] = []
        for job_id, message_id in message_of.items():
            row = found.get(message_id)
            began = await begin_send(session, *row, runs[job_id]) if row else None
            if isinstance(began, Prepared):
                prepared[job_id] = began
            else:
                settled.append((job_id, began))  # nothing to do, or a reason to wait
        await session.flush()
        await batch.finish(session, settled, RETRY_BASE)
    batch.settled([job_id for job_id, _ in settled])
    calls: dict[asyncio.Task[Sent | SendError], int] = {
        asyncio.create_task(_send(runs[job_id], send)): job_id for job_id, send in prepared.items()
    }
    pending: set[asyncio.Task[Sent | SendError]] = set(calls)
    try:
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            answered = {calls[task]: task.result() for task in done}
            await _record(batch, runs, message_of, prepared, answered)
            batch.settled(list(answered))
    finally:
        for task in pending:
            task.cancel()


async def _record(
    batch: Batch,
    runs: dict[int, JobRun],
    message_of: dict[int, int],
    prepared: dict[int, Prepared],
    answered: dict[int, Sent | SendError],
) -> None:
    """Step 3 for the sends that have their answer, with their jobs' outcomes."""
    async with batch.steps() as session:
        ids = [message_of[job_id] for job_id in answered]
        messages = {
            m.id: m
            for m in (
                await session.scalars(
                    select(Message)
                    .where(Message.id.in_(ids))
                    .order_by(Message.id)
                    .with_for_update()
                )
            ).all()
        }
        outcomes: list[tuple[int, str | None]] = []
        misplaced: list[Misplaced] = []
        for job_id, outcome in answered.items():
            message = messages.get(message_of[job_id])
            retry = record_outcome(
                session, message, prepared[job_id], outcome, runs[job_id], misplaced
            )
            outcomes.append((job_id, retry))
        for wrong in misplaced:  # rare: see echoes.py
            await place_again(session, wrong)
        await session.flush()
        await batch.finish(session, outcomes, RETRY_BASE)
