"""Call records."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from hotline.auth.service import Actor
from hotline.calls import dialling, finishing, service
from hotline.calls.models import Call, Callback, TransferAttempt
from hotline.calls.times import check_call_times
from hotline.calls.transfers import attempts_of
from hotline.cases.access import get_case_for
from hotline.db import utcnow
from hotline.types import Id
from hotline.web.deps import current_actor, get_state
from hotline.web.state import AppState

router = APIRouter(prefix="/api/v1/calls", tags=["calls"])
ActorDep = Annotated[Actor, Depends(current_actor)]
StateDep = Annotated[AppState, Depends(get_state)]


class CallIn(BaseModel):
    line: str = Field(max_length=20)
    caller: str = Field(max_length=40)
    started_at: datetime
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    menu_path: str = Field(default="", max_length=40)
    branch: str | None = Field(default=None, max_length=20)
    queue_wait_seconds: int = Field(default=0, ge=0, le=service.MAX_CALL_SECONDS)
    talk_seconds: int = Field(default=0, ge=0, le=service.MAX_CALL_SECONDS)
    outcome: str | None = None
    case_code: str | None = None
    # Who answered: omitted, the one recording an answered call; none for an unanswered one.
    operator_id: Id | None = None


class TransferAttemptOut(BaseModel):
    method: str  # refer | bridge | queue
    destination: str
    target: str | None
    started_at: datetime
    ended_at: datetime | None
    result: str
    sip_status: int | None

    @classmethod
    def of(cls, a: TransferAttempt) -> TransferAttemptOut:
        return cls(
            method=a.method.value,
            destination=a.destination,
            target=a.target,
            started_at=a.started_at,
            ended_at=a.ended_at,
            result=a.result.value,
            sip_status=a.sip_status,
        )


class CallOut(BaseModel):
    id: int
    line: str
    caller: str
    contact_id: int | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    menu_path: str
    branch: str | None
    queue_wait_seconds: int
    talk_seconds: int
    operator_id: int | None
    outcome: str | None
    case_id: int | None
    # Each try at putting the caller through to a destination (REFER, bridge, then the queue).
    transfers: list[TransferAttemptOut] = []
    # From the phone line (null for calls recorded through the API): the SIP Call-ID, the
    # trunk address, the codec, the final status of the INVITE, who ended the call and why.
    sip_call_id: str | None = None
    trunk: str | None = None
    codec: str | None = None
    sip_status: int | None = None
    ended_by: str | None = None
    release_cause: str | None = None
    # "inbound", or "outbound" for a callback the line dialled (its attempt links to it).
    direction: str = "inbound"

    @classmethod
    def of(cls, c: Call, attempts: list[TransferAttempt] | None = None) -> CallOut:
        return cls(
            id=c.id,
            line=c.line,
            caller=c.caller,
            contact_id=c.contact_id,
            started_at=c.started_at,
            answered_at=c.answered_at,
            ended_at=c.ended_at,
            menu_path=c.menu_path,
            branch=c.branch,
            queue_wait_seconds=c.queue_wait_seconds,
            talk_seconds=c.talk_seconds,
            operator_id=c.operator_id,
            outcome=c.outcome.value if c.outcome else None,
            case_id=c.case_id,
            transfers=[TransferAttemptOut.of(a) for a in attempts or []],
            sip_call_id=c.sip_call_id,
            trunk=c.trunk,
            codec=c.codec,
            sip_status=c.sip_status,
            ended_by=c.ended_by,
            release_cause=c.release_cause,
            direction=c.direction.value if c.direction else "inbound",
        )


@router.get("", response_model=list[CallOut])
async def list_calls(
    actor: ActorDep,
    state: StateDep,
    contact_id: Id | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[CallOut]:
    async with state.unit_of_work() as session:
        calls = await service.list_calls(session, actor=actor, contact_id=contact_id, limit=limit)
        attempts = await attempts_of(session, call_ids=[c.id for c in calls])
        return [CallOut.of(c, attempts[c.id]) for c in calls]


@router.post("", response_model=CallOut, status_code=201)
async def create_call(body: CallIn, actor: ActorDep, state: StateDep) -> CallOut:
    async with state.unit_of_work() as session:
        operator_id = await service.call_taker(
            session,
            actor=actor,
            operator_id=body.operator_id,
            answered=body.answered_at is not None,
            ended=body.ended_at is not None,
        )
        # The phone line's own records (telephony) are not checked here: it writes them
        # from its clock, replayed from its spool after an outage too.
        check_call_times(
            started_at=body.started_at,
            answered_at=body.answered_at,
            ended_at=body.ended_at,
            now=utcnow(),
        )
        case_id = None
        if body.case_code:
            case_id = (await get_case_for(session, actor, body.case_code)).id
        call = await service.record_call(
            session,
            data=service.NewCall(
                line=body.line,
                caller=body.caller,
                started_at=body.started_at,
                answered_at=body.answered_at,
                ended_at=body.ended_at,
                menu_path=body.menu_path,
                branch=body.branch,
                queue_wait_seconds=body.queue_wait_seconds,
                talk_seconds=body.talk_seconds,
                operator_id=operator_id,
                outcome=body.outcome,
                case_id=case_id,
            ),
        )
        out = CallOut.of(call)
        if not service.may_see_contact(actor):
            # A PBX's token learns nothing of the directory (whether its caller is known).
            out.contact_id = None
        return out


class CallEndIn(BaseModel):
    ended_at: datetime
    talk_seconds: int | None = Field(default=None, ge=0, le=service.MAX_CALL_SECONDS)
    outcome: str | None = None


class CallEndOut(BaseModel):
    """The finished call's times and outcome; not its caller (no personal data read)."""

    id: int
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    talk_seconds: int
    outcome: str | None
    operator_id: int | None


@router.patch("/{call_id}", response_model=CallEndOut)
async def finish_call(call_id: Id, body: CallEndIn, actor: ActorDep, state: StateDep) -> CallEndOut:
    """End a call recorded while in progress; it is counted then, once (the same end sent
    again changes and counts nothing; another end: 409)."""
    async with state.unit_of_work() as session:
        call = await finishing.finish_recorded_call(
            session,
            actor=actor,
            call_id=call_id,
            ended_at=body.ended_at,
            talk_seconds=body.talk_seconds,
            outcome=body.outcome,
        )
        return CallEndOut(
            id=call.id,
            started_at=call.started_at,
            answered_at=call.answered_at,
            ended_at=call.ended_at,
            talk_seconds=call.talk_seconds,
            outcome=call.outcome.value if call.outcome else None,
            operator_id=call.operator_id,
        )


class ContactCard(BaseModel):
    id: int
    name: str


class CallContextOut(BaseModel):
    call: CallOut
    contact: ContactCard | None
    past_cases: list[str]


@router.get("/{call_id}/context", response_model=CallContextOut)
async def call_context(call_id: Id, actor: ActorDep, state: StateDep) -> CallContextOut:
    """What the console pops when an operator answers: the caller's card and past cases."""
    async with state.unit_of_work() as session:
        ctx = await service.read_call_context(session, actor=actor, call_id=call_id)
        attempts = await attempts_of(session, call_ids=[ctx.call.id])
        return CallContextOut(
            call=CallOut.of(ctx.call, attempts[ctx.call.id]),
            contact=(
                ContactCard(id=ctx.contact_id, name=ctx.contact_name)
                if ctx.contact_id is not None
                else None
            ),
            past_cases=ctx.past_cases,
        )


callbacks_router = APIRouter(prefix="/api/v1/callbacks", tags=["calls"])


class CallbackOut(BaseModel):
    id: int
    call_id: int
    caller: str
    line: str
    branch: str
    queued_at: datetime
    due_at: datetime | None
    created_at: datetime
    status: str
    done_at: datetime | None
    done_by: int | None
    attempts: int = 0  # times the line dialled it (HOTLINE_SIP_CALLBACK_URI)
    next_attempt_at: datetime | None = None

    @classmethod
    def of(cls, c: Callback) -> CallbackOut:
        return cls(
            id=c.id,
            call_id=c.call_id,
            caller=c.caller,
            line=c.line,
            branch=c.branch,
            queued_at=c.queued_at,
            due_at=c.due_at,
            created_at=c.created_at,
            status=c.status.value,
            done_at=c.done_at,
            done_by=c.done_by,
            attempts=c.attempts or 0,
            next_attempt_at=c.next_attempt_at,
        )


@callbacks_router.get("", response_model=list[CallbackOut])
async def list_callbacks(
    actor: ActorDep,
    state: StateDep,
    status: str = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[CallbackOut]:
    """Callers waiting to be called back, in the order they joined the queue."""
    async with state.unit_of_work() as session:
        rows = await service.list_callbacks(
            session, actor=actor, status=status or None, limit=limit
        )
        return [CallbackOut.of(c) for c in rows]


@callbacks_router.post("/{callback_id}/done", response_model=CallbackOut)
async def callback_done(callback_id: Id, actor: ActorDep, state: StateDep) -> CallbackOut:
    async with state.unit_of_work() as session:
        callback = await service.complete_callback(session, actor=actor, callback_id=callback_id)
        return CallbackOut.of(callback)


class AttemptOut(BaseModel):
    id: int
    started_at: datetime
    ended_at: datetime
    operator_id: int | None
    result: str
    call_id: int | None = None  # the try's call record (direction outbound)


@callbacks_router.get("/{callback_id}/attempts", response_model=list[AttemptOut])
async def callback_attempts(callback_id: Id, actor: ActorDep, state: StateDep) -> list[AttemptOut]:
    """The times the line dialled this callback, and how each went."""
    async with state.unit_of_work(read_only=True) as session:
        rows = await dialling.list_attempts(session, actor=actor, callback_id=callback_id)
        return [
            AttemptOut(
                id=a.id,
                started_at=a.started_at,
                ended_at=a.ended_at,
                operator_id=a.operator_id,
                result=a.result.value,
                call_id=a.call_id,
            )
            for a in rows
        ]
