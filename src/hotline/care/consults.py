"""Consult requests: citizens waiting for a consult doctor.

A request is due in a consult window and belongs to that window's doctors: made inside a
window it is due at once, with the doctors working then; outside every window it is due when
the next window starts, with that window's doctors. They come from the phone line (a caller
of branch 3 who asked to be called back: the `callback` row gets the same due time), from a
citizen's message classified `tu_van_suc_khoe` (`request_consult`), and from hotline staff
(`create_consult`). A doctor sees the requests of their windows, takes one, and marks it done;
supervisors and administrators see them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.permissions import Permission, allows, require
from hotline.auth.service import Actor
from hotline.calls.models import Call, Callback, CallbackStatus
from hotline.care.consult_windows import ConsultWindow, consult_schedule
from hotline.care.models import ConsultAssignee, ConsultRequest, ConsultSource, ConsultStatus
from hotline.contacts.models import Contact
from hotline.contacts.phones import normalise_phone
from hotline.contacts.service import ReadSubject, find_by_phone, log_personal_reads
from hotline.db import utcnow
from hotline.errors import InvalidInput, InvalidTransition, NotFound
from hotline.messages import msg

CONSULT_NOT_FOUND = "Không tìm thấy yêu cầu tư vấn"
# The one transition table of a consult request.
TRANSITIONS: dict[ConsultStatus, frozenset[ConsultStatus]] = {
    ConsultStatus.OPEN: frozenset({ConsultStatus.TAKEN, ConsultStatus.DONE}),
    ConsultStatus.TAKEN: frozenset({ConsultStatus.DONE}),
    ConsultStatus.DONE: frozenset(),
}


async def _window_for(session: AsyncSession, at: datetime) -> ConsultWindow | None:
    """The window a request made at `at` is due in: the one open now, else the next."""
    schedule = await consult_schedule(session)
    return schedule.window_at(at) or schedule.next_window(at)


async def _add(
    session: AsyncSession,
    *,
    source: ConsultSource,
    at: datetime,
    window: ConsultWindow | None,
    **fields: object,
) -> ConsultRequest:
    due = at if window is None or window.starts_at <= at else window.starts_at
    request = ConsultRequest(
        source=source,
        status=ConsultStatus.OPEN,
        due_at=due,
        window_ends_at=window.ends_at if window is not None else None,
        created_at=utcnow(),
        **fields,
    )
    session.add(request)
    await session.flush()
    if window is not None:
        session.add_all(
            ConsultAssignee(request_id=request.id, user_id=uid) for uid in window.doctor_ids
        )
        await session.flush()
    return request


async def request_consult(
    session: AsyncSession,
    *,
    contact_id: int | None,
    source: str,
    text: str,
    phone: str | None = None,
    conversation_id: int | None = None,
    created_by: int | None = None,
    at: datetime | None = None,
) -> ConsultRequest:
    """A citizen asks for a consult doctor (no actor: a channel's inbox may call it): due in
    the consult window open at `at`, else the next one, for that window's doctors; with no
    consult doctor at all it is due at once and only supervisors see it."""
    try:
        kind = ConsultSource(source)
    except ValueError:
        raise InvalidInput(
            msg("Nguồn không hợp lệ: {source}", source=source), field="source"
        ) from None
    if contact_id is None and not phone:
        raise InvalidInput("Cần số điện thoại hoặc người dân", field="phone")
    when = at or utcnow()
    return await _add(
        session,
        source=kind,
        at=when,
        window=await _window_for(session, when),
        contact_id=contact_id,
        phone=normalise_phone(phone, field="phone") if phone else "",
        text=text.strip()[:4000],
        conversation_id=conversation_id,
        created_by_id=created_by,
    )


async def create_consult(
    session: AsyncSession, *, actor: Actor, phone: str, text: str, source: str = "staff"
) -> ConsultView:
    """Hotline staff pass a citizen on to the consult doctors (e.g. a message they read that
    asks a medical question); the answer echoes what they sent (not a logged read)."""
    require(actor, Permission.HANDLE_CASES)
    if source not in (ConsultSource.STAFF, ConsultSource.MESSAGE):
        raise InvalidInput(msg("Nguồn không hợp lệ: {source}", source=source), field="source")
    contact = await find_by_phone(session, normalise_phone(phone, field="phone"))
    request = await request_consult(
        session,
        contact_id=contact.id if contact else None,
        source=source,
        text=text,
        phone=phone,
        created_by=actor.user_id,
    )
    view = (await _views(session, actor, [request], None))[0]
    return ConsultView(request, "", view.doctor_ids)  # the name was not theirs to read


async def phone_callback(
    session: AsyncSession, *, call: Call, window: ConsultWindow, due_at: datetime
) -> ConsultRequest | None:
    """The phone line recorded a caller of branch 3 who asked to be called back in
    `window`, due at `due_at` (the start the caller was told of; when they asked, if the
    window was open): the callback gets that due time, and a consult request for the
    window's doctors holds it. None when the call left no callback."""
    callback = await session.scalar(select(Callback).where(Callback.call_id == call.id))
    if callback is None:
        return None
    callback.due_at = due_at
    return await _add(
        session,
        source=ConsultSource.PHONE,
        at=due_at,
        window=window,
        contact_id=call.contact_id,
        phone=callback.caller,
        call_id=call.id,
        callback_id=callback.id,
    )


# -- what doctors and supervisors see and do ---------------------------------------------------


@dataclass(frozen=True)
class ConsultView:
    request: ConsultRequest
    name: str
    doctor_ids: list[int]

    def as_json(self) -> dict[str, object]:
        r = self.request
        return {
            "id": r.id,
            "source": r.source.value,
            "status": r.status.value,
            "contact_id": r.contact_id,
            "name": self.name,
            "phone": r.phone,
            "text": r.text,
            "due_at": r.due_at.isoformat(),
            "window_ends_at": r.window_ends_at.isoformat() if r.window_ends_at else None,
            "doctor_ids": self.doctor_ids,
            "call_id": r.call_id,
            "callback_id": r.callback_id,
            "conversation_id": r.conversation_id,
            "taken_by": r.taken_by_id,
            "taken_at": r.taken_at.isoformat() if r.taken_at else None,
            "done_at": r.done_at.isoformat() if r.done_at else None,
            "created_at": r.created_at.isoformat(),
        }


def _sees_all(actor: Actor) -> bool:
    return allows(actor, Permission.SEE_ALL_PATIENTS)


async def _views(
    session: AsyncSession, actor: Actor, requests: list[ConsultRequest], purpose: str | None
) -> list[ConsultView]:
    """The requests with their doctors and the citizen's name; a logged read (`purpose`
    None: an answer echoing what the actor sent)."""
    ids = [r.id for r in requests]
    doctors: dict[int, list[int]] = {}
    if ids:
        rows = await session.execute(
            select(ConsultAssignee.request_id, ConsultAssignee.user_id)
            .where(ConsultAssignee.request_id.in_(ids))
            .order_by(ConsultAssignee.user_id)
        )
        for request_id, uid in rows.all():
            doctors.setdefault(request_id, []).append(uid)
    contact_ids = {r.contact_id for r in requests if r.contact_id is not None}
    names: dict[int, str] = {}
    if contact_ids:
        names = dict(
            (
                await session.execute(
                    select(Contact.id, Contact.name).where(Contact.id.in_(contact_ids))
                )
            ).all()
        )
    if purpose is not None:
        await log_personal_reads(
            session,
            user_id=actor.user_id,
            purpose=purpose,
            subjects=(
                ReadSubject(contact_id=r.contact_id, phone=r.phone or None) for r in requests
            ),
        )
    return [
        ConsultView(r, names.get(r.contact_id, "") if r.contact_id else "", doctors.get(r.id, []))
        for r in requests
    ]


async def list_consults(
    session: AsyncSession, *, actor: Actor, status: str | None = None, limit: int = 200
) -> list[ConsultView]:
    """Consult requests by due time: a doctor those of their windows (and those they took),
    supervisors and administrators all. Refused (403) outside the care roles."""
    require(actor, Permission.FOLLOW_PATIENTS)
    stmt = select(ConsultRequest).order_by(ConsultRequest.due_at, ConsultRequest.id)
    if status:
        try:
            stmt = stmt.where(ConsultRequest.status == ConsultStatus(status))
        except ValueError:
            raise InvalidInput(
                msg("Trạng thái không hợp lệ: {status}", status=status), field="status"
            ) from None
    if not _sees_all(actor):
        mine = select(ConsultAssignee.request_id).where(ConsultAssignee.user_id == actor.user_id)
        stmt = stmt.where(
            ConsultRequest.id.in_(mine) | (ConsultRequest.taken_by_id == actor.user_id)
        )
    found = list((await session.scalars(stmt.limit(max(1, min(limit, 500))))).all())
    return await _views(session, actor, found, "care_consults")


async def _get_for(session: AsyncSession, actor: Actor, request_id: int) -> ConsultRequest:
    """The request if the actor may act on it: a supervisor any, a doctor one of their
    windows' (or one they took); anyone else NotFound."""
    request = await session.get(ConsultRequest, request_id)
    if request is None or not allows(actor, Permission.FOLLOW_PATIENTS):
        raise NotFound(CONSULT_NOT_FOUND, field="consult_id")
    if _sees_all(actor) or request.taken_by_id == actor.user_id:
        return request
    assigned = await session.scalar(
        select(ConsultAssignee.user_id).where(
            ConsultAssignee.request_id == request.id, ConsultAssignee.user_id == actor.user_id
        )
    )
    if assigned is None:
        raise NotFound(CONSULT_NOT_FOUND, field="consult_id")
    return request


async def _move(
    session: AsyncSession,
    request: ConsultRequest,
    to: ConsultStatus,
    values: dict[str, object],
) -> None:
    """One transition, as a conditional UPDATE: of two doctors taking it at once, one wins."""
    if to not in TRANSITIONS[request.status]:
        raise InvalidTransition(
            msg("Yêu cầu tư vấn đang ở trạng thái {status}", status=request.status.value),
            field="status",
        )
    stmt = update(ConsultRequest).where(
        ConsultRequest.id == request.id, ConsultRequest.status == request.status
    )
    result = await session.execute(
        stmt.values(status=to, **values).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidTransition("Yêu cầu tư vấn vừa được người khác nhận", field="status")
    await session.refresh(request)


async def take_consult(session: AsyncSession, *, actor: Actor, consult_id: int) -> ConsultView:
    """A doctor of the request's window takes it (once: a second taker gets 409)."""
    request = await _get_for(session, actor, consult_id)
    await _move(
        session,
        request,
        ConsultStatus.TAKEN,
        {"taken_by_id": actor.user_id, "taken_at": utcnow()},
    )
    (view,) = await _views(session, actor, [request], "care_consult")
    return view


async def finish_consult(session: AsyncSession, *, actor: Actor, consult_id: int) -> ConsultView:
    """The consult happened: the request is done, and its callback with it. A request
    another doctor took is theirs to finish (or a supervisor's)."""
    request = await _get_for(session, actor, consult_id)
    if (
        request.status is ConsultStatus.TAKEN
        and request.taken_by_id != actor.user_id
        and not _sees_all(actor)
    ):
        raise InvalidTransition("Yêu cầu tư vấn này do bác sĩ khác nhận", field="status")
    now = utcnow()
    await _move(session, request, ConsultStatus.DONE, {"done_by_id": actor.user_id, "done_at": now})
    if request.callback_id is not None:
        await session.execute(
            update(Callback)
            .where(Callback.id == request.callback_id, Callback.status == CallbackStatus.OPEN)
            .values(status=CallbackStatus.DONE, done_at=now, done_by=actor.user_id)
        )
    (view,) = await _views(session, actor, [request], "care_consult")
    return view
