"""Call records: written by the phone line (and the demo), counted for the reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.models import Role, User
from hotline.auth.permissions import Permission, require, role_allows
from hotline.auth.service import Actor
from hotline.calls.models import Call, Callback, CallbackStatus, CallDirection, CallOutcome
from hotline.cases.models import Case
from hotline.contacts.models import Contact
from hotline.contacts.phones import normalise_phone
from hotline.contacts.service import (
    ReadSubject,
    find_by_phone,
    log_personal_read,
    log_personal_reads,
)
from hotline.db import utcnow
from hotline.errors import InvalidInput, NotFound
from hotline.messages import msg
from hotline.reports.counters import count_call
from hotline.reports.models import CallCounter

UNKNOWN_CALLER = ""
MAX_CALL_SECONDS = 86_400


@dataclass
class NewCall:
    line: str
    caller: str
    started_at: datetime
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    menu_path: str = ""
    branch: str | None = None
    queue_wait_seconds: int = 0
    talk_seconds: int = 0
    operator_id: int | None = None
    outcome: str | None = None
    case_id: int | None = None
    # When the caller joined the queue: a callback request keeps that place.
    queued_at: datetime | None = None
    # The phone-line instance writing the call (None: recorded through the API).
    instance: str | None = None
    # From the phone line only (see Call): the SIP side of the call and the record's key.
    sip_call_id: str | None = None
    trunk: str | None = None
    codec: str | None = None
    sip_status: int | None = None
    ended_by: str | None = None
    release_cause: str | None = None
    record_key: str | None = None
    # "outbound": a callback the line dialled (CallDirection); the rest are incoming calls.
    direction: str = "inbound"


async def call_taker(
    session: AsyncSession, *, actor: Actor, operator_id: int | None, answered: bool, ended: bool
) -> int | None:
    """Who took a call `actor` is recording: the staff member named, else the actor;
    nobody for a call nobody answered (an abandoned call has no operator). Only shift
    leads and administrators record calls through the API (WRITE_CALLS): the records feed
    the reports, the forecast and surge mode, and the phone line writes its own. A PBX's
    answered calls come `ended`: its token cannot PATCH one later, so it would never count."""
    require(actor, Permission.WRITE_CALLS)
    if actor.role is Role.SERVICE and answered and not ended:
        raise InvalidInput(
            "Tài khoản dịch vụ chỉ gửi cuộc gọi đã kết thúc: cần thời điểm kết thúc",
            field="ended_at",
        )
    if operator_id is None:
        # A PBX's service account took no call itself: the call taker is unknown to it.
        return actor.user_id if answered and actor.role is not Role.SERVICE else None
    if not answered:
        raise InvalidInput(
            "Cuộc gọi không được trả lời thì không có tổng đài viên", field="operator_id"
        )
    user = await session.get(User, operator_id)
    if user is None or not user.active or not role_allows(user.role, Permission.RECORD_CALLS):
        raise InvalidInput(
            msg("Không có tổng đài viên mã {operator_id}", operator_id=operator_id),
            field="operator_id",
        )
    return user.id


def may_see_contact(actor: Actor) -> bool:
    """Not a PBX's token, which only writes: told `contact_id`, it could probe the directory."""
    return actor.role is not Role.SERVICE


async def record_call(session: AsyncSession, *, data: NewCall) -> Call:
    """Store a call and count it by line, branch and outcome once it is finished: an
    answered call recorded still in progress (no `ended_at`) is counted when it ends, as
    the line counts its calls (`finish_call`) and as a rebuild of the counters does."""
    call = await _new_row(session, data)
    if call.ended_at is not None or call.answered_at is None:
        await _count(session, call)
    if call.outcome is CallOutcome.CALLBACK_REQUESTED:
        session.add(
            Callback(
                call_id=call.id,
                caller=call.caller,
                line=call.line,
                branch=call.branch or "",
                queued_at=data.queued_at or data.started_at,
                status=CallbackStatus.OPEN,
            )
        )
        await session.flush()
    return call


async def open_call(session: AsyncSession, *, data: NewCall) -> Call:
    """An answered call in progress (the console needs its id now); counted at `finish_call`."""
    return await _new_row(session, data)


async def finish_call(
    session: AsyncSession, *, call_id: int, ended_at: datetime, talk_seconds: int
) -> Call:
    call = await session.get(Call, call_id)
    if call is None:
        raise NotFound("Không tìm thấy cuộc gọi", field="call_id")
    if ended_at.tzinfo is None:
        raise InvalidInput("Thời điểm phải có múi giờ", field="ended_at")
    call.ended_at = ended_at
    call.talk_seconds = max(0, talk_seconds)
    await session.flush()
    await _count(session, call)
    return call


async def close_calls_left_open(session: AsyncSession, *, instance: str) -> list[int]:
    """A phone-line instance starting up closes the calls it left open when it stopped
    without ending them (a crash): outcome `line_restarted`, ended now, talk time unknown
    (0), counted for the reports. Only this instance's calls: others sharing the database
    are still carrying theirs. Returns the closed calls' ids."""
    calls = (
        await session.scalars(
            select(Call)
            .where(Call.instance == instance, Call.ended_at.is_(None))
            .order_by(Call.id)
            .with_for_update()
        )
    ).all()
    now = utcnow()
    for call in calls:
        call.ended_at = max(now, call.started_at)
        call.talk_seconds = 0
        call.outcome = CallOutcome.LINE_RESTARTED
    await session.flush()
    for call in calls:
        await _count(session, call)
    return [call.id for call in calls]


async def _new_row(session: AsyncSession, data: NewCall) -> Call:
    # "" is a caller we cannot name (withheld id, or a SIP user that is not a phone number):
    # the column holds E.164 or nothing, so reports and contact matching never see junk.
    caller = normalise_phone(data.caller, field="caller") if data.caller else UNKNOWN_CALLER
    for field in ("started_at", "answered_at", "ended_at"):
        at = getattr(data, field)
        if at is not None and at.tzinfo is None:
            raise InvalidInput("Thời điểm phải có múi giờ", field=field)
    outcome = None
    if data.outcome is not None:
        try:
            outcome = CallOutcome(data.outcome)
        except ValueError:
            raise InvalidInput(
                msg("Kết quả cuộc gọi không hợp lệ: {outcome}", outcome=data.outcome),
                field="outcome",
            ) from None
    for field in ("queue_wait_seconds", "talk_seconds"):
        seconds = getattr(data, field)
        if seconds < 0:
            raise InvalidInput("Thời lượng không được âm", field=field)
        # The hourly report counters add these up in 32-bit columns.
        if seconds > MAX_CALL_SECONDS:
            raise InvalidInput("Thời lượng không quá một ngày (86400 giây)", field=field)
    contact = await find_by_phone(session, caller) if caller else None
    call = Call(
        line=data.line,
        caller=caller,
        contact_id=contact.id if contact else None,
        started_at=data.started_at,
        answered_at=data.answered_at,
        ended_at=data.ended_at,
        menu_path=data.menu_path,
        branch=data.branch,
        queue_wait_seconds=data.queue_wait_seconds,
        talk_seconds=data.talk_seconds,
        operator_id=data.operator_id,
        outcome=outcome,
        case_id=data.case_id,
        instance=data.instance,
        sip_call_id=data.sip_call_id,
        trunk=data.trunk,
        codec=data.codec,
        sip_status=data.sip_status,
        ended_by=data.ended_by,
        release_cause=data.release_cause,
        record_key=data.record_key,
        direction=CallDirection(data.direction),
    )
    session.add(call)
    await session.flush()
    return call


async def count_finished(session: AsyncSession, call: Call) -> None:
    """Count a finished call for the reports (once per call: its writer's duty)."""
    await _count(session, call)


async def _count(session: AsyncSession, call: Call) -> None:
    if call.direction is CallDirection.OUTBOUND:
        return  # the reports count calls to the line; a callback's tries are its attempts
    await count_call(
        session,
        started_at=call.started_at,
        line=call.line,
        branch=call.branch,
        outcome=call.outcome.value if call.outcome else None,
        wait_seconds=call.queue_wait_seconds,
        talk_seconds=call.talk_seconds,
        operator_id=call.operator_id if call.answered_at is not None else None,
        answered_in_20s=_answered_within(call, 20),
        answered=call.answered_at is not None,
    )


def _answered_within(call: Call, seconds: int) -> bool:
    return call.answered_at is not None and call.queue_wait_seconds <= seconds


async def link_call(session: AsyncSession, *, call_id: int, case_id: int) -> Call:
    """Attach a call to the case it produced."""
    call = await session.get(Call, call_id)
    if call is None:
        raise NotFound("Không tìm thấy cuộc gọi", field="call_id")
    call.case_id = case_id
    await session.flush()
    return call


async def calls_of_case(session: AsyncSession, *, case_id: int) -> list[Call]:
    """A case's calls, newest first, for the case view (which shows no caller numbers: the
    case's reporter is read, and logged, with the case)."""
    stmt = (
        select(Call).where(Call.case_id == case_id).order_by(Call.started_at.desc(), Call.id.desc())
    )
    return list((await session.scalars(stmt)).all())


async def list_calls(
    session: AsyncSession,
    *,
    actor: Actor,
    contact_id: int | None = None,
    limit: int = 100,
) -> list[Call]:
    """Call records for staff, newest first; their callers' numbers are personal data, so
    the read of each caller is logged."""
    require(actor, Permission.RECORD_CALLS)
    stmt = (
        select(Call).order_by(Call.started_at.desc(), Call.id.desc()).limit(max(1, min(limit, 500)))
    )
    if contact_id is not None:
        stmt = stmt.where(Call.contact_id == contact_id)
    calls = list((await session.scalars(stmt)).all())
    await log_personal_reads(
        session,
        user_id=actor.user_id,
        purpose="call_list",
        subjects=(ReadSubject(contact_id=c.contact_id, phone=c.caller) for c in calls),
    )
    return calls


# -- callbacks --------------------------------------------------------------------------------


async def list_callbacks(
    session: AsyncSession, *, actor: Actor, status: str | None = "open", limit: int = 100
) -> list[Callback]:
    """Callback requests in queue order: who joined the queue first comes first. The
    callers' numbers are personal data: the read is logged."""
    require(actor, Permission.RECORD_CALLS)
    stmt = (
        select(Callback, Call.contact_id)
        .join(Call, Call.id == Callback.call_id)
        .order_by(Callback.queued_at, Callback.id)
        .limit(max(1, min(limit, 500)))
    )
    if status:
        try:
            stmt = stmt.where(Callback.status == CallbackStatus(status))
        except ValueError:
            raise InvalidInput(
                msg("Trạng thái không hợp lệ: {status}", status=status), field="status"
            ) from None
    rows = (await session.execute(stmt)).all()
    await log_personal_reads(
        session,
        user_id=actor.user_id,
        purpose="callback_list",
        subjects=(ReadSubject(contact_id=contact_id, phone=cb.caller) for cb, contact_id in rows),
    )
    return [cb for cb, _ in rows]


async def complete_callback(session: AsyncSession, *, actor: Actor, callback_id: int) -> Callback:
    """Mark a callback done (once); the answer names the caller, so it is a logged read."""
    require(actor, Permission.RECORD_CALLS)
    callback = await session.get(Callback, callback_id)
    if callback is None:
        raise NotFound("Không tìm thấy yêu cầu gọi lại", field="callback_id")
    if callback.status is CallbackStatus.OPEN:
        callback.status = CallbackStatus.DONE
        callback.done_at = utcnow()
        callback.done_by = actor.user_id
        await session.flush()
    call = await session.get(Call, callback.call_id)
    await log_personal_read(
        session,
        actor=actor,
        contact_id=call.contact_id if call else None,
        phone=callback.caller,
        purpose="callback_done",
    )
    return callback


@dataclass
class CallContext:
    call: Call
    contact_id: int | None
    contact_name: str
    past_cases: list[str]


async def read_call_context(session: AsyncSession, *, actor: Actor, call_id: int) -> CallContext:
    """A call's caller card for hotline staff (`call_context`, read by the actor)."""
    require(actor, Permission.RECORD_CALLS)
    return await call_context(session, call_id=call_id, reader_id=actor.user_id)


async def call_context(
    session: AsyncSession, *, call_id: int, reader_id: int | None, purpose: str = "caller_card"
) -> CallContext:
    """What the console pops when an operator answers: the caller's card and past cases.
    Shown to `reader_id` (the answering operator when the line pushes it): a logged read."""
    call = await session.get(Call, call_id)
    if call is None:
        raise NotFound("Không tìm thấy cuộc gọi", field="call_id")
    name, cases = "", []
    if call.contact_id is not None:
        contact = await session.get(Contact, call.contact_id)
        name = contact.name if contact else ""
        cases = list(
            (
                await session.scalars(
                    select(Case.code)
                    .where(Case.contact_id == call.contact_id)
                    .order_by(Case.id.desc())
                    .limit(20)
                )
            ).all()
        )
    await log_personal_reads(
        session,
        user_id=reader_id,
        purpose=purpose,
        subjects=[ReadSubject(contact_id=call.contact_id, phone=call.caller)],
    )
    return CallContext(call, call.contact_id, name, cases)


async def call_figures(session: AsyncSession) -> tuple[dict[str, int], int]:
    """Calls ever recorded by outcome (the reports' counters), and answered calls in
    progress (rows the phone line opened and has not finished): for /metrics."""
    rows = await session.execute(
        select(CallCounter.outcome, func.sum(CallCounter.calls)).group_by(CallCounter.outcome)
    )
    by_outcome = {outcome or "none": int(n or 0) for outcome, n in rows.all()}
    in_progress = await session.scalar(
        select(func.count()).select_from(Call).where(Call.ended_at.is_(None))
    )
    return by_outcome, int(in_progress or 0)
