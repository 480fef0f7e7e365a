"""Call records from the line: kept on the line's disk first, then written to the database.

A call that ends becomes a record in memory, then a spooled file (spool.py: fsync'd, in a
thread, never on the media clock's loop), then a row. The writer is one task that writes
the spooled files oldest first and removes each once every record in it is in the
database; when the database cannot be reached it stops, waits (doubling up to
`retry_max`), and tries again, so records of calls that ended during an outage land when
the database is back, each exactly once (calls/line_records.py), and the log holds one line
per distinct error per interval (errlog.py) however many calls end meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.agents.models import AgentStatus
from hotline.agents.service import line_update
from hotline.calls.dialling import record_attempt
from hotline.calls.line_records import write_line_call
from hotline.calls.models import Call, CallbackResult, CallOutcome
from hotline.calls.service import CallContext, NewCall, call_context, open_call
from hotline.calls.transfers import add_attempts, amend_attempt
from hotline.care.consult_dialling import record_consult_attempt
from hotline.care.consults import phone_callback
from hotline.db import utcnow
from hotline.errors import DomainError
from hotline.events import DomainEvent, Wake, committed, record_event
from hotline.recordings.service import RecordedFile, add_recording
from hotline.telephony.backend import Attempt, CallProgress
from hotline.telephony.call_record import Amendment, CallbackTry, Entry, new_call
from hotline.telephony.errlog import ErrorLog, describe
from hotline.telephony.metrics import LineMetrics
from hotline.telephony.recording import CallAudio
from hotline.telephony.spool import Spool
from hotline.telephony.voicemail import voicemail_case

log = structlog.get_logger("hotline.telephony")


def db_unreachable(exc: BaseException) -> bool:
    """An error of the record itself (refused: set aside) or anything else (the database is
    away or failing: retried)."""
    return not isinstance(exc, DomainError | IntegrityError | ValueError | TypeError | KeyError)


class CallRecorder:
    """Writes each call record, off the media path, surviving database outages.

    A call an operator answers is written twice: its row when the operator answers (the
    console needs its id to pop the caller's card and link a case), finished when it ends.
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        wake: Wake | None = None,
        recordings: Path | None = None,
        instance: str | None = None,
        *,
        spool: Spool,
        errors: ErrorLog | None = None,
        retry_max: float = 30.0,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.wake = wake  # after a commit with events: the web processes read the log
        self.instance = instance  # written on each call (PhoneLine.reconcile)
        self.metrics: LineMetrics | None = None
        self.recordings = recordings  # where call recordings are written
        self.spool = spool
        self.errors = errors or ErrorLog(60.0)
        self.retry_max = retry_max
        self._tasks: set[asyncio.Task[None]] = set()
        self._opened: dict[int, tuple[str, asyncio.Task[int | None]]] = {}
        self._opening: dict[str, asyncio.Task[int | None]] = {}  # by record key
        # Each operator's latest "answered" write: their "available again" waits for it, or a
        # very short call could leave them marked busy on a call that is over.
        self._answering: dict[int, asyncio.Task[int | None]] = {}
        self._entries: list[Entry | Amendment] = []  # finished, not spooled yet
        self._spooling = asyncio.Lock()
        self._writing = asyncio.Lock()
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._writer: asyncio.Task[None] | None = None
        self.outage = False  # the last write found the database unreachable

    def start(self) -> None:
        """Prepare the spool (records left by the last run are written first) and start
        the writer."""
        self.spool.prepare()
        self._writer = asyncio.get_running_loop().create_task(self._write_loop())

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def __call__(self, progress: CallProgress) -> None:
        opened = self._opened.pop(id(progress), None)
        if opened is not None:
            self._opening[opened[0]] = opened[1]
        data = new_call(progress)
        data.instance = self.instance
        if self.metrics is not None:
            self.metrics.call_ended(data.outcome)
            if data.outcome == CallOutcome.FAILED.value:
                self.metrics.call_refused(data.sip_status, data.release_cause)
        consult = progress.consult_window
        due = progress.consult_due or data.queued_at or data.started_at
        entry = Entry(
            data,
            consult,
            due,
            attempts=list(progress.attempts),
            voicemail=progress.voicemail,
            voicemail_category=progress.voicemail_category,
        )
        if progress.recording is None:
            self._entries.append(entry)
            self._spawn(self._spool_entries())
        else:
            self._spawn(self._with_recording(entry, progress.recording))

    def amend(self, record_key: str, seq: int, attempt: Attempt, was: str) -> None:
        """An attempt of a finished call changed (a report after the call's end): spooled
        behind the record, whose file is written first (`_spooling` keeps the order), or
        already in the record if it was not spooled yet (the record holds the same attempt;
        the amendment then finds nothing to change). Either way the row says it once."""
        if attempt.result is None:
            return
        amendment = Amendment(
            record_key, seq, was, attempt.result, attempt.sip_status, attempt.ended_at
        )
        self._entries.append(amendment)
        self._spawn(self._spool_entries())

    def outbound(self, entry: Entry) -> None:
        """A callback the line dialled: its call record and its try, spooled like any call."""
        self._entries.append(entry)
        self._spawn(self._spool_entries())

    async def _with_recording(self, entry: Entry, recording: CallAudio) -> None:
        entry.recorded = await self._write_recording(recording)
        self._entries.append(entry)
        await self._spool_entries()

    async def _spool_entries(self) -> None:
        """Move the finished records to the spool (one file for all waiting), then wake the
        writer. A burst of calls ending makes one file, not one each."""
        async with self._spooling:
            entries, self._entries = self._entries, []
            if not entries:
                return
            records = [e.dump() for e in entries]
            try:
                await asyncio.to_thread(self.spool.write, records)
            except OSError as exc:  # the line's own disk: nothing else can keep them
                self.errors.error("call_spool_failed", exc, records=len(records))
                self._entries[:0] = entries
                return
        self._wakeup.set()

    def opened(self, progress: CallProgress) -> None:
        """An operator answered: write the row now and tell their console."""
        data = new_call(progress)
        data.ended_at = None
        data.instance = self.instance
        task = asyncio.get_running_loop().create_task(self._open(data))
        self._opened[id(progress)] = (progress.record_key, task)
        if progress.operator_id is not None:
            self._answering[progress.operator_id] = task

    async def _open(self, data: NewCall) -> int | None:
        try:
            async with committed(self.sessionmaker, self.wake) as session:
                call = await open_call(session, data=data)
                if data.operator_id is not None:
                    await line_update(
                        session,
                        user_id=data.operator_id,
                        status=AgentStatus.BUSY,
                        current_call_id=call.id,
                    )
                # The caller's card goes to the answering operator's console: their read.
                context = await call_context(
                    session, call_id=call.id, reader_id=data.operator_id, purpose="call_answered"
                )
                record_event(session, answered_event(context, data.operator_id))
        except Exception as exc:  # the end of the call writes the record all the same
            self.errors.error("call_open_failed", exc, traceback=not db_unreachable(exc))
            return None
        return call.id

    async def _write_loop(self) -> None:
        delay = 1.0
        while not self._stopping:
            # Cleared before the pass, not after: a call ending during the pass wakes the
            # next one (cleared after, its file would wait for the call after it).
            self._wakeup.clear()
            await self._spool_entries()  # any a full disk held back
            if await self.write_spooled():
                delay = 1.0
                wait: float | None = None  # until the next call ends
            else:
                wait, delay = delay, min(delay * 2, self.retry_max)
            self.errors.flush()
            if self._stopping:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), wait)

    async def write_spooled(self) -> bool:
        """One pass over the spool, oldest first; False if the database could not be
        reached (the rest waits for the next pass)."""
        async with self._writing:
            for path in await asyncio.to_thread(self.spool.pending):
                try:
                    raw = await asyncio.to_thread(self.spool.read, path)
                except (OSError, ValueError, AssertionError) as exc:
                    self.errors.error("call_spool_unreadable", exc, file=path.name)
                    continue
                for record in raw:
                    if not await self._write_one(record):
                        if not self.outage:
                            log.warning("call_records_deferred", reason="database unreachable")
                        self.outage = True
                        return False
                await asyncio.to_thread(self.spool.done, path)
            if self.outage:
                log.info("call_records_written_after_outage")
            self.outage = False
            return True

    async def _write_one(self, raw: dict[str, Any]) -> bool:
        """Write one spooled record; False if the database is unreachable."""
        try:
            entry = Amendment.load(raw) if "amend" in raw else Entry.load(raw)
        except (KeyError, TypeError, ValueError) as exc:
            await asyncio.to_thread(self.spool.reject, raw, describe(exc))
            return True
        if isinstance(entry, Amendment):
            return await self._write_amendment(entry, raw)
        key = entry.call.record_key
        opening = self._opening.pop(key, None) if key else None
        if opening is not None:  # the row opened when an operator answered comes first
            await asyncio.wait([opening])
        try:
            async with self.sessionmaker() as session, session.begin():
                await self._store(session, entry)
        except Exception as exc:
            if db_unreachable(exc):
                self.errors.error("call_record_deferred", exc)
                return False
            if isinstance(exc, IntegrityError) and await self._written(key):
                return True  # written meanwhile (another writer): nothing to add
            self.errors.error("call_record_rejected", exc, traceback=True)
            await asyncio.to_thread(self.spool.reject, raw, describe(exc))
        return True

    async def _write_amendment(self, amendment: Amendment, raw: dict[str, Any]) -> bool:
        """Apply one spooled amendment; False if the database is unreachable."""
        try:
            async with self.sessionmaker() as session, session.begin():
                await amend_attempt(
                    session,
                    record_key=amendment.record_key,
                    seq=amendment.seq,
                    was=amendment.was,
                    result=amendment.result,
                    sip_status=amendment.sip_status,
                    ended_at=amendment.ended_at,
                )
        except Exception as exc:
            if db_unreachable(exc):
                self.errors.error("call_record_deferred", exc)
                return False
            self.errors.error("call_record_rejected", exc, traceback=True)
            await asyncio.to_thread(self.spool.reject, raw, describe(exc))
        return True

    async def _store(self, session: AsyncSession, entry: Entry) -> None:
        call = await write_line_call(session, data=entry.call)
        if call is None:
            return  # written before (a replay): the rest was written with it
        if entry.consult is not None and call.outcome is CallOutcome.CALLBACK_REQUESTED:
            # Branch 3: called back in the consult window the caller was told of.
            due = entry.consult_due or utcnow()
            await phone_callback(session, call=call, window=entry.consult, due_at=due)
        await add_attempts(session, call_id=call.id, attempts=entry.attempts)
        if entry.callback is not None:
            await store_try(session, call_id=call.id, tried=entry.callback)
        if entry.recorded is not None:
            await add_recording(session, call_id=call.id, recorded=entry.recorded)
            if entry.voicemail:
                await voicemail_case(session, call=call, category=entry.voicemail_category)

    async def _written(self, key: str | None) -> bool:
        try:
            async with self.sessionmaker() as session:
                found = await session.scalar(select(Call.id).where(Call.record_key == key))
        except Exception:
            return False
        return found is not None

    async def _write_recording(self, recording: CallAudio | None) -> RecordedFile | None:
        """Decode and write the call's audio in a thread: never on the media clock's loop."""
        if recording is None or self.recordings is None:
            return None
        try:
            return await asyncio.to_thread(recording.write, self.recordings)
        except Exception as exc:
            self.errors.error("recording_write_failed", exc, traceback=True)
            return None

    def agent(self, user_id: int, *, status: AgentStatus | None, missed: bool = False) -> None:
        """Mark an operator busy / available / missed, in the background."""
        self._spawn(self._agent(user_id, status, missed))

    async def _agent(self, user_id: int, status: AgentStatus | None, missed: bool) -> None:
        answering = self._answering.pop(user_id, None)
        if answering is not None:
            await asyncio.wait([answering])
        try:
            async with committed(self.sessionmaker, self.wake) as session:
                await line_update(
                    session,
                    user_id=user_id,
                    status=status,
                    missed=missed,
                    clear_call=status is AgentStatus.AVAILABLE,
                )
        except Exception as exc:  # the line's poll heals an operator's status
            self.errors.error("agent_update_failed", exc, traceback=not db_unreachable(exc))

    async def drain(self) -> None:
        """Every finished call spooled, and one attempt made to write the spool."""
        while self._tasks:
            await asyncio.wait(list(self._tasks))
        await self._spool_entries()
        await self.write_spooled()

    async def stop(self) -> None:
        """Drain, then stop the writer (what the database did not take stays spooled)."""
        await self.drain()
        self._stopping = True
        self._wakeup.set()
        if self._writer is not None:
            await asyncio.wait([self._writer])
        self.errors.flush()


async def store_try(session: AsyncSession, *, call_id: int, tried: CallbackTry) -> None:
    """A dialled callback's try, linked to its call record; a consult request moves too."""
    common: dict[str, Any] = {
        "callback_id": tried.callback_id,
        "call_id": call_id,
        "started_at": tried.started_at,
        "ended_at": tried.ended_at,
        "result": CallbackResult(tried.result),
        "max_attempts": tried.max_attempts,
        "retry_after": tried.retry_after,
    }
    if tried.request_id is not None:
        await record_consult_attempt(
            session, request_id=tried.request_id, doctor_id=tried.rung, **common
        )
    else:
        await record_attempt(session, operator_id=tried.operator_id, **common)


def answered_event(context: CallContext, operator_id: int | None) -> DomainEvent:
    """`call.answered`, for the answering operator's console only (see web/sse.py)."""
    call = context.call
    return DomainEvent(
        kind="call.answered",
        data={
            "call_id": call.id,
            "operator_id": operator_id,
            "caller": call.caller,
            "line": call.line,
            "branch": call.branch,
            "contact": (
                {"id": context.contact_id, "name": context.contact_name}
                if context.contact_id is not None
                else None
            ),
            "past_cases": context.past_cases,
            "new_case": {"method": "POST", "href": "/api/v1/cases", "call_id": call.id},
        },
    )
