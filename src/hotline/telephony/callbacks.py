"""The line places the callbacks it promised: when a member of a callback's queue is free
(and no caller is waiting in that queue, who would get them anyway), the line calls the
citizen back, and once they answer rings the free member and bridges the two.

Each try is claimed in the database (calls/dialling.py); its result (connected, no answer,
the operator missed it) is written with the try's own call record, direction outbound
(callback_record.py), through the line's spool like every call record (records.py), so a
database outage loses neither; the queue's rules (phoneconfig Queue:
`callback_attempts`, `callback_retry_after`) say how often and how far apart. The operator
is held (the ACD's `engaged`) from before the citizen is dialled, so the ACD does not hand
them a new caller while their callback rings.

The callbacks of consult requests (branch 3, the `doctor` queue) are dialled once the window
they are due in has started, by a free doctor of that window: the try takes the request for
that doctor (care/consult_dialling.py), so a doctor calling back by hand and the line never
both call; the doctor queue's rules say how often. A consult request held for a try is
released when the line stops before the try is recorded, and requests a crashed line held
are released at start-up and by the poll once their hold has passed
(care/consult_dialling.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.agents.models import AgentStatus
from hotline.calls.dialling import DueCallback, claim_callback, due_callbacks
from hotline.calls.models import CallbackResult
from hotline.care.consult_dialling import (
    DueConsult,
    claim_consult_callback,
    due_consult_callbacks,
    release_line_claims,
)
from hotline.care.models import ConsultRequest
from hotline.db import utcnow
from hotline.telephony.call_record import CallbackTry, Entry
from hotline.telephony.callback_record import Dialled, outbound_call
from hotline.telephony.consult import CONSULT_QUEUE
from hotline.telephony.sip.outbound import OutboundLeg
from hotline.telephony.sip.route import Reach, outside
from hotline.telephony.sip.sdp import PCMU

if TYPE_CHECKING:
    from hotline.agents.service import LineAgent
    from hotline.telephony.acd import Acd
    from hotline.telephony.server import CallRecorder
    from hotline.telephony.switchboard import Snapshot

log = structlog.get_logger("hotline.telephony.callbacks")
DEFAULT_ATTEMPTS, DEFAULT_RETRY = 3, 300.0


def callback_target(template: str, caller: str, proxy: str = "") -> Reach | None:
    """The citizen's SIP address from the template, and where to send the INVITE (the
    outbound proxy when one is set)."""
    return outside(template.replace("{number}", caller.lstrip("+")), proxy)


class CallbackDialer:
    def __init__(
        self,
        acd: Acd,
        sessionmaker: async_sessionmaker[AsyncSession],
        recorder: CallRecorder,
        *,
        template: str,
        ring_seconds: float,
        snapshot: Callable[[], Snapshot | None],
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.acd = acd
        self.sessionmaker = sessionmaker
        self.recorder = recorder
        self.template = template
        self.ring_seconds = ring_seconds
        self.snapshot = snapshot
        self.now = now
        self.dialling: set[int] = set()  # callback ids with a try in progress here
        self.consults: set[int] = set()  # consult request ids those tries hold
        self._tasks: set[asyncio.Task[None]] = set()

    def _ready(self) -> list[str]:
        """Queues with a free member and nobody waiting."""
        snapshot = self.snapshot()
        names = list(snapshot.queues) if snapshot is not None and snapshot.queues else []
        return [b for b in names if not self.acd.queues.get(b) and self.acd.free(b)]

    @property
    def _hold(self) -> float:
        """How long a claimed try may last: the citizen's ring, the member's, a call's start."""
        return self.ring_seconds + self.acd.ring_seconds + 30

    async def start(self) -> None:
        """At the line's start: release the consult requests a crashed line left held."""
        await self._release(None)

    async def _release(self, request_ids: set[int] | None) -> None:
        try:
            async with self.sessionmaker() as session, session.begin():
                released = await release_line_claims(
                    session, now=self.now(), request_ids=request_ids
                )
        except Exception:
            log.exception("consult_release_failed")
            return
        if released:
            log.info("consult_requests_released", count=released)

    async def tick(self) -> None:
        """Start the tries that may start now (called from the line's poll)."""
        await self._release(None)
        await self._tick_queues()
        await self._tick_consults()

    async def _tick_queues(self) -> None:
        branches = self._ready()
        if not branches:
            return
        now = self.now()
        consult = select(ConsultRequest.callback_id).where(ConsultRequest.callback_id.is_not(None))
        async with self.sessionmaker() as session:
            due = await due_callbacks(session, branches=branches, now=now, exclude=consult)
        for callback in due:
            if callback.id in self.dialling:
                continue
            free = self.acd.free(callback.branch)
            if not free or self.acd.queues.get(callback.branch):
                continue
            async with self.sessionmaker() as session, session.begin():
                if not await claim_callback(session, callback=callback, now=now, hold=self._hold):
                    continue
            self._start(callback, free[0], None)

    async def _tick_consults(self) -> None:
        """Consult callbacks whose window has started, each for a free doctor of its window
        (the doctor queue holds only the consult doctors in a window now: consult.py)."""
        if self.acd.queues.get(CONSULT_QUEUE) or not self.acd.free(CONSULT_QUEUE):
            return
        now = self.now()
        async with self.sessionmaker() as session:
            due = await due_consult_callbacks(session, now=now)
        for item in due:
            if item.callback.id in self.dialling or self.acd.queues.get(CONSULT_QUEUE):
                continue
            free = [a for a in self.acd.free(CONSULT_QUEUE) if a.user_id in item.doctor_ids]
            if not free:
                continue
            async with self.sessionmaker() as session:
                claimed = await claim_consult_callback(
                    session, due=item, doctor_id=free[0].user_id, now=now, hold=self._hold
                )
                # Both updates or neither: a request a doctor took by hand keeps no claim.
                await (session.commit() if claimed else session.rollback())
            if claimed:
                self.consults.add(item.request_id)
                self._start(item.callback, free[0], item)

    def _start(self, callback: DueCallback, agent: LineAgent, consult: DueConsult | None) -> None:
        self.acd.engaged.add(agent.user_id)
        self.dialling.add(callback.id)
        task = asyncio.get_running_loop().create_task(self._try(callback, agent, consult))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _try(
        self, callback: DueCallback, agent: LineAgent, consult: DueConsult | None
    ) -> None:
        dialled = Dialled(started_at=utcnow())
        result, operator = CallbackResult.FAILED, None
        try:
            result, operator = await self._dial(callback, agent, dialled)
        except Exception:
            log.exception("callback_try_failed", callback_id=callback.id)
        finally:
            self.dialling.discard(callback.id)
            if operator is None:  # not bridged: free again now (bridged: at the call's end)
                self.acd.engaged.discard(agent.user_id)
                self.acd.dispatch()
        log.info(
            "callback_tried",
            callback_id=callback.id,
            result=result.value,
            consult_id=consult.request_id if consult else None,
        )
        self._record(callback, dialled, result, operator, consult, agent.user_id)
        if consult is not None:  # the spooled record moves the request now
            self.consults.discard(consult.request_id)

    async def _dial(
        self, callback: DueCallback, agent: LineAgent, dialled: Dialled
    ) -> tuple[CallbackResult, int | None]:
        ua = self.acd.ua
        where = callback_target(self.template, callback.caller, ua.config.outbound_proxy)
        if where is None:
            return CallbackResult.FAILED, None
        dialled.hop = where.hop
        citizen = OutboundLeg(
            ua,
            target=where.target,
            hop=where.hop,
            route=where.route,
            caller=callback.line,  # the citizen sees the hotline's number calling
            codec=PCMU,
            rtp=await ua.ports.open(ua.config.host),
        )
        dialled.citizen = citizen
        answered = await citizen.call(self.ring_seconds)
        dialled.status = citizen.status  # before a CANCEL's 487: as the ringing stopped
        if not answered or citizen.stream is None:
            return CallbackResult.NO_ANSWER, None
        dialled.answered_at = utcnow()
        phone = self.acd.reachable(agent)
        answered, operator = False, None
        if phone is not None:
            operator = OutboundLeg(
                ua,
                target=phone.target,
                hop=phone.hop,
                route=phone.route,
                caller=callback.caller,
                codec=citizen.stream.payload_type,
                rtp=await ua.ports.open(ua.config.host),
            )
            answered = await operator.call(self.acd.ring_seconds)
        if not answered or operator is None or operator.stream is None:
            self.acd.missed(agent.user_id)
            dialled.ended_by = "caller" if citizen.ended.is_set() else "line"
            await citizen.hangup()
            return CallbackResult.AGENT_MISSED, None
        dialled.bridged_at = utcnow()
        dialled.ended_by = await self._bridge(citizen, operator, agent.user_id)
        return CallbackResult.CONNECTED, agent.user_id

    async def _bridge(self, citizen: OutboundLeg, operator: OutboundLeg, user_id: int) -> str:
        """Relay the audio until one side hangs up; who did ("caller" or "operator")."""
        assert citizen.stream is not None and operator.stream is not None
        self.recorder.agent(user_id, status=AgentStatus.BUSY)
        citizen.rtp.relay_to, operator.rtp.relay_to = operator.stream, citizen.stream
        gone = [asyncio.ensure_future(leg.ended.wait()) for leg in (citizen, operator)]
        ended_by = "line"
        try:
            done, _ = await asyncio.wait(gone, return_when=asyncio.FIRST_COMPLETED)
            ended_by = "caller" if gone[0] in done else "operator"
        finally:
            for waiter in gone:
                waiter.cancel()
            for leg in (citizen, operator):
                leg.rtp.relay_to = None
                if not leg.ended.is_set():
                    self.acd.ua.spawn(leg.hangup())
            self.acd.release(user_id)  # available again (hooks), the ACD dispatches
        return ended_by

    def _record(
        self,
        callback: DueCallback,
        dialled: Dialled,
        result: CallbackResult,
        operator: int | None,
        consult: DueConsult | None,
        rung: int,
    ) -> None:
        """The try's call record and result, through the line's spool (records.py): the
        callback (and a consult request) moves when the record is written."""
        snapshot = self.snapshot()
        rule = snapshot.queues.get(callback.branch) if snapshot is not None else None
        ended = utcnow()
        call = outbound_call(
            dialled,
            line=callback.line,
            citizen=callback.caller,
            branch=callback.branch,
            operator_id=operator,
            ended_at=ended,
        )
        call.instance = self.recorder.instance
        tried = CallbackTry(
            callback_id=callback.id,
            result=result.value,
            started_at=dialled.started_at,
            ended_at=ended,
            rung=rung,
            operator_id=operator,
            max_attempts=rule.callback_attempts if rule else DEFAULT_ATTEMPTS,
            retry_after=rule.callback_retry_after if rule else DEFAULT_RETRY,
            request_id=consult.request_id if consult is not None else None,
        )
        self.recorder.outbound(Entry(call, callback=tried))

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*self._tasks, return_exceptions=True)
        # Tries cut before their result was written: their requests are open again.
        held, self.consults = set(self.consults), set()
        if held:
            await self._release(held)
