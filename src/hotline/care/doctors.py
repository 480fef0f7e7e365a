"""The doctor network: profiles, groups (consult, proactive care), weekly windows, capacity;
and the two questions consult routing asks (`available_consult_doctors`,
`next_consult_window`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.agents.service import sip_usernames
from hotline.auth.models import Role, User
from hotline.auth.permissions import Permission, require
from hotline.auth.service import Actor, get_user
from hotline.care.models import CareDoctor, DoctorGroup, DoctorWindow
from hotline.contacts.phones import normalise_phone
from hotline.db import utcnow
from hotline.errors import Conflict, InvalidInput, NotFound
from hotline.messages import msg
from hotline.site import site_of

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
DAY_MINUTES = 24 * 60


@dataclass(frozen=True)
class WindowIn:
    group: str
    start: str  # "HH:MM", local site time
    end: str  # "HH:MM"; "24:00" is midnight at the end of the day
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)


@dataclass
class DoctorIn:
    """A profile's fields. None: on a new profile the default (no group, no specialty, no
    licence, no phone, the site's capacity, the consult group's default windows, active);
    on a profile replaced (PUT), the value it has (its windows those of groups it keeps)."""

    years_experience: int
    groups: tuple[str, ...] | None = None
    specialty: str | None = None
    licence_number: str | None = None
    phone: str | None = None
    capacity: int | None = None
    # None: the consult group's default windows (setting care_consult_windows).
    availability: tuple[WindowIn, ...] | None = None
    active: bool | None = None


def minutes_of(text: str, *, field: str) -> int:
    if text == "24:00":
        return DAY_MINUTES
    match = _HHMM.match(text)
    if match is None:
        raise InvalidInput(msg("Giờ phải có dạng HH:MM: {value}", value=text), field=field)
    return int(match.group(1)) * 60 + int(match.group(2))


def parse_span(text: str, *, field: str = "availability") -> tuple[int, int]:
    """ "09:00-11:00" -> (540, 660)."""
    start, _, end = text.partition("-")
    return minutes_of(start.strip(), field=field), minutes_of(end.strip(), field=field)


def _groups(values: Iterable[str]) -> set[DoctorGroup]:
    out = set()
    for value in values:
        try:
            out.add(DoctorGroup(value))
        except ValueError:
            raise InvalidInput(
                msg("Nhóm không hợp lệ: {group}", group=value), field="groups"
            ) from None
    return out


def _check_consult(session: AsyncSession, groups: set[DoctorGroup], years: int) -> None:
    least = site_of(session).care.consult_min_years
    if DoctorGroup.CONSULT in groups and years < least:
        raise InvalidInput(
            msg(
                "Nhóm tư vấn chỉ nhận bác sĩ có từ {least} năm kinh nghiệm (bác sĩ này: {years})",
                least=least,
                years=years,
            ),
            field="groups",
            code="consult_experience",
        )


def _windows(session: AsyncSession, data: DoctorIn, groups: set[DoctorGroup]) -> list[WindowIn]:
    if data.availability is not None:
        return list(data.availability)
    if DoctorGroup.CONSULT not in groups:
        return []
    return [
        WindowIn(group="consult", start=s.split("-")[0].strip(), end=s.split("-")[1].strip())
        for s in site_of(session).care.consult_windows
    ]


async def _kept_windows(
    session: AsyncSession, user_id: int, groups: set[DoctorGroup]
) -> list[WindowIn]:
    """A profile's windows as they are, those of the groups it keeps (a profile replaced
    without `availability`)."""
    rows = (
        await session.scalars(
            select(DoctorWindow).where(DoctorWindow.user_id == user_id).order_by(DoctorWindow.id)
        )
    ).all()
    spans: dict[tuple[str, int, int], list[int]] = {}
    for w in rows:
        if w.group in groups:
            spans.setdefault((w.group.value, w.start_minute, w.end_minute), []).append(w.weekday)
    return [
        WindowIn(group=g, start=_hhmm(s), end=_hhmm(e), weekdays=tuple(sorted(days)))
        for (g, s, e), days in spans.items()
    ]


async def _set_windows(
    session: AsyncSession, user_id: int, windows: Sequence[WindowIn], groups: set[DoctorGroup]
) -> None:
    await session.execute(delete(DoctorWindow).where(DoctorWindow.user_id == user_id))
    for i, w in enumerate(windows):
        field = f"availability[{i}]"
        (group,) = _groups([w.group]) if w.group else (None,)
        if group is None or group not in groups:
            raise InvalidInput(
                msg("Khung giờ cho nhóm bác sĩ không thuộc: {group}", group=w.group),
                field=f"{field}.group",
            )
        start, end = (
            minutes_of(w.start, field=f"{field}.start"),
            minutes_of(w.end, field=f"{field}.end"),
        )
        if not start < end:
            raise InvalidInput("Giờ kết thúc phải sau giờ bắt đầu", field=f"{field}.end")
        if not w.weekdays or any(d not in range(7) for d in w.weekdays):
            raise InvalidInput("Ngày trong tuần từ 0 (thứ Hai) đến 6", field=f"{field}.weekdays")
        session.add_all(
            DoctorWindow(
                user_id=user_id, group=group, weekday=d, start_minute=start, end_minute=end
            )
            for d in sorted(set(w.weekdays))
        )
    await session.flush()


async def save_doctor(
    session: AsyncSession, *, actor: Actor, user_id: int, data: DoctorIn, create: bool
) -> CareDoctor:
    """Create (create=True) or replace a doctor's profile. The user must hold the doctor
    role; the consult group takes only doctors with the configured years of practice. A
    doctor deactivated or taken out of the proactive-care group hands their patients at
    home to the other proactive-care doctors (handover.release_patients)."""
    require(actor, Permission.MANAGE_DOCTORS)
    user = await get_user(session, user_id)
    if user.role != Role.DOCTOR:
        raise InvalidInput("Tài khoản này không có vai trò bác sĩ", field="user_id")
    if data.years_experience < 0 or data.years_experience > 80:
        raise InvalidInput("Số năm kinh nghiệm không hợp lệ", field="years_experience")
    doctor = await session.get(CareDoctor, user_id)
    if create and doctor is not None:
        raise Conflict("Bác sĩ này đã có hồ sơ", field="user_id")
    if not create and doctor is None:
        raise NotFound("Không tìm thấy bác sĩ", field="user_id")
    kept = doctor is not None
    if data.groups is not None:
        groups = _groups(data.groups)
    elif doctor is not None:
        groups = {g for g, on in ((DoctorGroup.CONSULT, doctor.consult),
                                  (DoctorGroup.PROACTIVE, doctor.proactive)) if on}  # fmt: skip
    else:
        groups = set()
    _check_consult(session, groups, data.years_experience)
    if data.capacity is not None:
        capacity = data.capacity
    elif doctor is not None:
        capacity = doctor.capacity
    else:
        capacity = site_of(session).care.default_capacity
    if capacity < 0:
        raise InvalidInput("Số người bệnh tối đa không hợp lệ", field="capacity")
    windows = await _kept_windows(session, user_id, groups) if kept else None
    if doctor is None:
        doctor = CareDoctor(user_id=user_id, patient_count=0, created_at=utcnow(), active=True)
        session.add(doctor)
    doctor.years_experience = data.years_experience
    if data.specialty is not None or not kept:
        doctor.specialty = (data.specialty or "").strip()
    if data.licence_number is not None or not kept:
        doctor.licence_number = (data.licence_number or "").strip()
    if data.phone is not None or not kept:
        doctor.phone = normalise_phone(data.phone, field="phone") if data.phone else None
    doctor.consult = DoctorGroup.CONSULT in groups
    doctor.proactive = DoctorGroup.PROACTIVE in groups
    doctor.capacity = capacity
    if data.active is not None:
        doctor.active = data.active
    doctor.updated_at = utcnow()
    await session.flush()
    if data.availability is None and windows:
        await _set_windows(session, user_id, windows, groups)
    else:
        await _set_windows(session, user_id, _windows(session, data, groups), groups)
    from hotline.care.followup import assign_waiting
    from hotline.care.handover import release_patients

    if not (doctor.active and doctor.proactive):
        # No longer following patients at home: theirs go to the others, or wait.
        await release_patients(session, actor=actor, doctor_id=user_id)
    # A new doctor, or one with more room: patients waiting for a doctor get one now.
    await assign_waiting(session)
    # The handover and the assignments counted the doctor's patients in SQL: read afresh.
    await session.refresh(doctor)
    return doctor


async def get_doctor(session: AsyncSession, *, actor: Actor, user_id: int) -> CareDoctor:
    require(actor, Permission.FOLLOW_PATIENTS)
    doctor = await session.get(CareDoctor, user_id)
    if doctor is None:
        raise NotFound("Không tìm thấy bác sĩ", field="user_id")
    return doctor


async def list_doctors(
    session: AsyncSession, *, actor: Actor, group: str | None = None
) -> list[CareDoctor]:
    """The network's doctors (care roles), by user id; optionally one group's."""
    require(actor, Permission.FOLLOW_PATIENTS)
    stmt = select(CareDoctor).order_by(CareDoctor.user_id)
    if group is not None:
        (g,) = _groups([group])
        stmt = stmt.where(CareDoctor.consult if g == DoctorGroup.CONSULT else CareDoctor.proactive)
    return list((await session.scalars(stmt)).all())


@dataclass(frozen=True)
class DoctorView:
    doctor: CareDoctor
    name: str
    sip_username: str | None
    windows: list[DoctorWindow]

    def as_json(self) -> dict[str, object]:
        d = self.doctor
        spans: dict[tuple[str, int, int], list[int]] = {}
        for w in self.windows:
            spans.setdefault((w.group.value, w.start_minute, w.end_minute), []).append(w.weekday)
        return {
            "user_id": d.user_id,
            "name": self.name,
            "specialty": d.specialty,
            "years_experience": d.years_experience,
            "licence_number": d.licence_number,
            "phone": d.phone,
            "sip_username": self.sip_username,
            "groups": [g for g, on in (("consult", d.consult), ("proactive", d.proactive)) if on],
            "capacity": d.capacity,
            "patient_count": d.patient_count,
            "active": d.active,
            "availability": [
                {"group": g, "weekdays": sorted(days), "start": _hhmm(s), "end": _hhmm(e)}
                for (g, s, e), days in sorted(spans.items(), key=lambda kv: (kv[0][0], kv[0][1]))
            ],
        }


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


async def views_of(session: AsyncSession, doctors: Sequence[CareDoctor]) -> list[DoctorView]:
    ids = [d.user_id for d in doctors]
    if not ids:
        return []
    names = dict(
        (await session.execute(select(User.id, User.full_name).where(User.id.in_(ids)))).all()
    )
    sip = await sip_usernames(session)
    windows: dict[int, list[DoctorWindow]] = {}
    rows = await session.scalars(
        select(DoctorWindow).where(DoctorWindow.user_id.in_(ids)).order_by(DoctorWindow.id)
    )
    for w in rows.all():
        windows.setdefault(w.user_id, []).append(w)
    return [
        DoctorView(d, names.get(d.user_id) or "", sip.get(d.user_id), windows.get(d.user_id, []))
        for d in doctors
    ]
