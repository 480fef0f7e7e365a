"""The verbs of a case's life: take, forward, accept, return, resolve, close, reject,
mark duplicate, reopen. Every one checks the transition table, writes the timeline and
changes the status with a conditional UPDATE, so two people acting at once cannot both win.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from hotline.auth.permissions import Permission, require
from hotline.auth.service import Actor
from hotline.cases import medical, sharing, timeline
from hotline.cases.access import get_case_for
from hotline.cases.assignment_state import ACTIVE_STATUSES, active_sql
from hotline.cases.in_charge import require_in_charge
from hotline.cases.models import AssignmentStatus, Case, CaseAssignment, CaseEvent, CaseStatus
from hotline.cases.transitions import ACTION_LABELS_VI, Action, target
from hotline.cases.versions import check_version
from hotline.db import utcnow
from hotline.directory.service import get_category, get_unit
from hotline.errors import Conflict, InvalidInput, InvalidTransition, NotAllowed, NotFound
from hotline.messages import msg
from hotline.reports.counters import count_case, count_unit

# The longest deadline a forwarding may be given (90 days).
MAX_DEADLINE_HOURS = 24 * 90


async def _set_status(session: AsyncSession, case: Case, new: CaseStatus, **values: object) -> None:
    now = utcnow()
    result = await session.execute(
        update(Case)
        .where(Case.id == case.id, Case.status == case.status)
        .values(status=new, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("Yêu cầu vừa được người khác thay đổi, hãy tải lại", field="status")
    set_committed_value(case, "status", new)
    set_committed_value(case, "updated_at", now)
    for key, value in values.items():
        set_committed_value(case, key, value)


def _require_staff(actor: Actor, action: Action) -> None:
    require(
        actor,
        Permission.HANDLE_CASES,
        msg("Chỉ tổng đài viên được {action} yêu cầu", action=ACTION_LABELS_VI[action]),
    )


def _reason(text: str | None, field: str = "reason") -> str:
    if not text or not text.strip():
        raise InvalidInput("Cần nêu lý do", field=field)
    return text.strip()


async def take_case(
    session: AsyncSession, *, actor: Actor, case: Case, expected_version: int | None = None
) -> Case:
    """An operator takes a case to work on it (new → in progress)."""
    await check_version(session, case, expected_version)
    _require_staff(actor, Action.TAKE)
    before = case.status
    to = target(Action.TAKE, before)
    await _set_status(session, case, to, assignee_id=actor.user_id)
    await timeline.log(session, case, "taken", actor, from_status=before, to_status=to)
    return case


async def forward_case(
    session: AsyncSession,
    *,
    actor: Actor,
    case: Case,
    unit_id: int,
    note: str = "",
    deadline_hours: int | None = None,
    expected_version: int | None = None,
) -> CaseAssignment:
    """Forward a case to a unit with the category's deadline (or a given one).

    The first forwarding counts the case as "forwarded" in the reports.
    """
    await check_version(session, case, expected_version)
    _require_staff(actor, Action.FORWARD)
    require_in_charge(actor, case, Action.FORWARD, field="unit_id")
    before = case.status
    to = target(Action.FORWARD, before)
    if case.category_code is None:
        raise InvalidInput("Chọn lĩnh vực trước khi chuyển đơn vị", field="category")
    unit = await get_unit(session, unit_id)
    already = await session.scalar(
        select(CaseAssignment.id).where(
            CaseAssignment.case_id == case.id,
            CaseAssignment.unit_id == unit.id,
            active_sql(),
        )
    )
    if already is not None:
        raise Conflict(msg("Yêu cầu đang ở đơn vị {name}", name=unit.name), field="unit_id")
    if deadline_hours is None:
        deadline_hours = (await get_category(session, case.category_code)).forward_hours
    elif not 1 <= deadline_hours <= MAX_DEADLINE_HOURS:
        raise InvalidInput(
            msg("Thời hạn phải từ 1 đến {most} giờ", most=MAX_DEADLINE_HOURS),
            field="deadline_hours",
        )
    now = utcnow()
    first_time = not case.ever_forwarded
    await _set_status(session, case, to, ever_forwarded=True)
    assignment = CaseAssignment(
        case_id=case.id,
        unit_id=unit.id,
        status=AssignmentStatus.PENDING,
        note=note.strip(),
        due_at=now + timedelta(hours=deadline_hours),
        created_at=now,
    )
    session.add(assignment)
    await session.flush()
    await timeline.log(
        session,
        case,
        "forwarded",
        actor,
        from_status=before,
        to_status=to,
        unit_id=unit.id,
        reason=note.strip() or None,
        data={"unit": unit.code, "due_at": assignment.due_at.isoformat()},
    )
    await count_unit(session, unit_id=unit.id, at=now, received=1)
    if first_time:
        await count_case(
            session,
            created_at=case.created_at,
            category_code=case.category_code,
            channel=case.channel.value,
            forwarded=1,
        )
    return assignment


async def _my_assignment(session: AsyncSession, actor: Actor, case: Case) -> CaseAssignment:
    if actor.unit_id is None:
        raise NotAllowed("Chỉ cán bộ đơn vị được thao tác này")
    assignment = await session.scalar(
        select(CaseAssignment).where(
            CaseAssignment.case_id == case.id,
            CaseAssignment.unit_id == actor.unit_id,
            active_sql(),
        )
    )
    if assignment is None:
        raise InvalidTransition("Đơn vị của bạn không còn giữ yêu cầu này", field="status")
    return assignment


async def _round_start(session: AsyncSession, case: Case) -> datetime | None:
    """When the case was last reopened: forwardings before that belong to an ended round."""
    return await session.scalar(
        select(func.max(CaseEvent.at)).where(
            CaseEvent.case_id == case.id, CaseEvent.kind == "reopened"
        )
    )


async def _settle(session: AsyncSession, case: Case, nominal: CaseStatus) -> CaseStatus:
    """The case status implied by its forwardings of the current round after a unit acted."""
    stmt = select(CaseAssignment.status).where(CaseAssignment.case_id == case.id)
    start = await _round_start(session, case)
    if start is not None:
        stmt = stmt.where(CaseAssignment.created_at >= start)
    statuses = list((await session.scalars(stmt)).all())
    if any(s in ACTIVE_STATUSES for s in statuses):
        return (
            CaseStatus.ACCEPTED if AssignmentStatus.ACCEPTED in statuses else CaseStatus.FORWARDED
        )
    if AssignmentStatus.RESOLVED in statuses:
        return CaseStatus.RESOLVED
    return nominal


async def _settle_status(
    session: AsyncSession, case: Case, before: CaseStatus, nominal: CaseStatus
) -> CaseStatus:
    """Move the case to the status its forwardings imply; when that is resolved (however the
    last unit finished), the answer is the units' answers of the current round."""
    to = await _settle(session, case, nominal)
    extra: dict[str, object] = {}
    if to == CaseStatus.RESOLVED:
        stmt = (
            select(CaseAssignment.answer)
            .where(
                CaseAssignment.case_id == case.id,
                CaseAssignment.status == AssignmentStatus.RESOLVED,
            )
            .order_by(CaseAssignment.finished_at)
        )
        start = await _round_start(session, case)
        if start is not None:
            stmt = stmt.where(CaseAssignment.created_at >= start)
        answers = (await session.scalars(stmt)).all()
        extra = {"answer": "\n\n".join(a for a in answers if a), "resolved_at": utcnow()}
    if to != before or extra:
        await _set_status(session, case, to, **extra)
    return to


async def accept_case(
    session: AsyncSession, *, actor: Actor, case: Case, expected_version: int | None = None
) -> Case:
    """A unit takes on a case forwarded to it."""
    await check_version(session, case, expected_version)
    before = case.status
    target(Action.ACCEPT, before)
    assignment = await _my_assignment(session, actor, case)
    if assignment.status != AssignmentStatus.PENDING:
        raise InvalidTransition("Đơn vị đã tiếp nhận yêu cầu này rồi", field="status")
    assignment.status = AssignmentStatus.ACCEPTED
    assignment.accepted_at = utcnow()
    await session.flush()
    to = await _settle_status(session, case, before, CaseStatus.ACCEPTED)
    await timeline.log(
        session, case, "accepted", actor, from_status=before, to_status=to, unit_id=actor.unit_id
    )
    return case


async def return_case(
    session: AsyncSession,
    *,
    actor: Actor,
    case: Case,
    reason: str | None,
    expected_version: int | None = None,
) -> Case:
    """A unit hands a case back as not theirs; with no unit left it goes back to the hotline."""
    await check_version(session, case, expected_version)
    before = case.status
    target(Action.RETURN, before)
    text = _reason(reason)
    assignment = await _my_assignment(session, actor, case)
    assignment.status = AssignmentStatus.RETURNED
    assignment.return_reason = text
    assignment.finished_at = utcnow()
    await session.flush()
    to = await _settle_status(session, case, before, CaseStatus.IN_PROGRESS)
    await timeline.log(
        session,
        case,
        "returned",
        actor,
        from_status=before,
        to_status=to,
        reason=text,
        unit_id=actor.unit_id,
    )
    if to == CaseStatus.RESOLVED:
        await sharing.share_answer(session, actor=actor, primary=case)
    return case


async def resolve_case(
    session: AsyncSession,
    *,
    actor: Actor,
    case: Case,
    answer: str | None,
    expected_version: int | None = None,
) -> Case:
    """Answer a case: the hotline directly (new/in progress), or a unit holding it."""
    await check_version(session, case, expected_version)
    before = case.status
    target(Action.RESOLVE, before)
    text = _reason(answer, field="answer")
    now = utcnow()
    if before in (CaseStatus.FORWARDED, CaseStatus.ACCEPTED):
        assignment = await _my_assignment(session, actor, case)
        assignment.status = AssignmentStatus.RESOLVED
        assignment.answer = text
        assignment.finished_at = now
        await session.flush()
        await count_unit(session, unit_id=assignment.unit_id, at=now, resolved=1)
        to = await _settle_status(session, case, before, CaseStatus.RESOLVED)
        unit_id: int | None = assignment.unit_id
    else:
        _require_staff(actor, Action.RESOLVE)
        require_in_charge(actor, case, Action.RESOLVE)
        to, unit_id = CaseStatus.RESOLVED, None
        await _set_status(session, case, to, answer=text, resolved_at=now)
    await timeline.log(
        session,
        case,
        "resolved",
        actor,
        from_status=before,
        to_status=to,
        unit_id=unit_id,
        data={"answer": text},
    )
    if to == CaseStatus.RESOLVED:
        # Reporters of the cases merged into this one get the same answer.
        await sharing.share_answer(session, actor=actor, primary=case)
    return case


async def close_case(
    session: AsyncSession,
    *,
    actor: Actor,
    case: Case,
    note: str = "",
    expected_version: int | None = None,
) -> Case:
    """Close a resolved case once the citizen has been told the answer."""
    await check_version(session, case, expected_version)
    _require_staff(actor, Action.CLOSE)
    require_in_charge(actor, case, Action.CLOSE)
    before = case.status
    to = target(Action.CLOSE, before)
    await _set_status(session, case, to, closed_at=utcnow())
    await timeline.log(
        session, case, "closed", actor, from_status=before, to_status=to, reason=note or None
    )
    return case


async def reject_case(
    session: AsyncSession,
    *,
    actor: Actor,
    case: Case,
    reason: str | None,
    expected_version: int | None = None,
) -> Case:
    """Reject spam, abuse or out-of-scope requests, with a reason."""
    await check_version(session, case, expected_version)
    _require_staff(actor, Action.REJECT)
    require_in_charge(actor, case, Action.REJECT)
    before = case.status
    to = target(Action.REJECT, before)
    text = _reason(reason)
    await _set_status(session, case, to, closed_at=utcnow())
    await timeline.log(
        session, case, "rejected", actor, from_status=before, to_status=to, reason=text
    )
    return case


async def hold(session: AsyncSession, case: Case) -> None:
    """Take the case's row lock, checking nobody changed its status since it was read.

    Whoever reads a case's duplicates to act on them (answer sharing, merging) then waits for
    a transaction linking a new duplicate to it, instead of missing that duplicate.
    """
    await _set_status(session, case, case.status)


async def mark_duplicate(
    session: AsyncSession,
    *,
    actor: Actor,
    case: Case,
    original_code: str,
    expected_version: int | None = None,
) -> Case:
    """Link a case (and the cases it had as duplicates) to the original it repeats and end
    it; if the original is already answered, the answer is shared at once."""
    await check_version(session, case, expected_version)
    _require_staff(actor, Action.DUPLICATE)
    require_in_charge(actor, case, Action.DUPLICATE)
    medical.check_not_merged(case, field="original_code")
    target(Action.DUPLICATE, case.status)
    try:
        original = await get_case_for(session, actor, original_code)
    except NotFound as exc:
        raise NotFound(exc.detail, field="original_code") from None
    # The original's answer goes to this case's reporter: only one who reads it links to it.
    require_in_charge(actor, original, Action.DUPLICATE, field="original_code")
    if original.id == case.id:
        raise InvalidInput("Không thể đánh dấu trùng với chính nó", field="original_code")
    medical.check_not_merged(original, field="original_code")
    root = original
    while root.duplicate_of_id is not None:
        parent = await session.get(Case, root.duplicate_of_id)
        assert parent is not None
        root = parent
        if root.id == case.id:
            raise InvalidInput("Liên kết trùng tạo thành vòng", field="original_code")
    await hold(session, root)
    linked = [case, *await link_duplicate(session, actor=actor, case=case, root=root)]
    if root.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        await sharing.share_answer(session, actor=actor, primary=root, duplicates=linked)
    return case


async def link_duplicate(
    session: AsyncSession, *, actor: Actor, case: Case, root: Case
) -> list[Case]:
    """End `case` as a duplicate of `root`; returns the cases re-pointed from it to `root`.

    The caller holds `root` (see `hold`); the case's own row is locked by the status change
    before its duplicates are read, so one linked to it meanwhile is not left behind.
    """
    before = case.status
    to = target(Action.DUPLICATE, before)
    await _set_status(session, case, to, duplicate_of_id=root.id, closed_at=utcnow())
    await timeline.log(
        session,
        case,
        "marked_duplicate",
        actor,
        from_status=before,
        to_status=to,
        data={"original": root.code},
    )
    await timeline.log(session, root, "duplicate_linked", actor, data={"duplicate": case.code})
    return await sharing.repoint(session, actor=actor, case=case, root=root)


async def reopen_case(
    session: AsyncSession,
    *,
    actor: Actor,
    case: Case,
    reason: str | None,
    expected_version: int | None = None,
) -> Case:
    """Reopen an ended case; it goes back to the hotline's queue."""
    await check_version(session, case, expected_version)
    _require_staff(actor, Action.REOPEN)
    require_in_charge(actor, case, Action.REOPEN)
    before = case.status
    to = target(Action.REOPEN, before)
    text = _reason(reason)
    await _set_status(session, case, to, closed_at=None, duplicate_of_id=None)
    await timeline.log(
        session, case, "reopened", actor, from_status=before, to_status=to, reason=text
    )
    return case
