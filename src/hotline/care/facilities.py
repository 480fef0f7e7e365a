"""Treatment facilities and their free beds, kept by their units (admission requests to
them: admissions.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.permissions import Permission, allows, require
from hotline.auth.service import Actor
from hotline.care.models import Admission, AdmissionStatus, Facility
from hotline.db import utcnow
from hotline.directory.service import check_ward, get_unit
from hotline.errors import InvalidInput, NotAllowed, NotFound
from hotline.messages import msg

BED_KINDS = ("general", "oxygen", "icu")
COUNTS = {"general": "beds", "oxygen": "oxygen_beds", "icu": "icu_beds"}


@dataclass
class BedsIn:
    beds_total: int | None = None
    beds_free: int | None = None
    oxygen_beds_total: int | None = None
    oxygen_beds_free: int | None = None
    icu_beds_total: int | None = None
    icu_beds_free: int | None = None


def facility_json(f: Facility) -> dict[str, Any]:
    return {
        "id": f.id,
        "unit_id": f.unit_id,
        "name": f.name,
        "address": f.address,
        "ward_code": f.ward_code,
        "beds": {
            kind: {"total": getattr(f, f"{c}_total"), "free": getattr(f, f"{c}_free")}
            for kind, c in COUNTS.items()
        },
        "updated_at": f.updated_at.isoformat(),
    }


def _apply(f: Facility, beds: BedsIn) -> None:
    for name in ("beds", "oxygen_beds", "icu_beds"):
        total = getattr(beds, f"{name}_total")
        free = getattr(beds, f"{name}_free")
        if total is not None:
            setattr(f, f"{name}_total", total)
        if free is not None:
            setattr(f, f"{name}_free", free)
        if not 0 <= getattr(f, f"{name}_free") <= getattr(f, f"{name}_total"):
            raise InvalidInput("Số giường trống phải từ 0 đến tổng số giường", field=f"{name}_free")


async def create_facility(
    session: AsyncSession,
    *,
    actor: Actor,
    unit_id: int,
    name: str,
    address: str = "",
    ward_code: str | None = None,
    beds: BedsIn | None = None,
) -> Facility:
    """Add a facility kept by a unit (administrators)."""
    require(actor, Permission.MANAGE_FACILITIES)
    await get_unit(session, unit_id)
    if not name.strip():
        raise InvalidInput("Cần tên cơ sở", field="name")
    if ward_code:
        await check_ward(session, ward_code)
    f = Facility(
        unit_id=unit_id,
        name=name.strip(),
        address=address.strip(),
        ward_code=ward_code or None,
        beds_total=0,
        beds_free=0,
        oxygen_beds_total=0,
        oxygen_beds_free=0,
        icu_beds_total=0,
        icu_beds_free=0,
        updated_at=utcnow(),
        updated_by_id=actor.user_id,
    )
    _apply(f, beds or BedsIn())
    session.add(f)
    await session.flush()
    return f


def keeps(actor: Actor, f: Facility) -> bool:
    return allows(actor, Permission.MANAGE_FACILITIES) or (
        actor.unit_scoped and actor.unit_id == f.unit_id
    )


async def update_beds(
    session: AsyncSession, *, actor: Actor, facility_id: int, beds: BedsIn
) -> Facility:
    """A facility's unit (its officers) or an administrator sets its bed counts."""
    # The facility's row locked: an accept (admissions.py) takes its bed before or after.
    f = await session.get(Facility, facility_id, with_for_update=True, populate_existing=True)
    if f is None:
        raise NotFound("Không tìm thấy cơ sở điều trị", field="facility_id")
    if not keeps(actor, f):
        raise NotAllowed(msg("Chỉ đơn vị quản lý cơ sở được cập nhật số giường"))
    _apply(f, beds)
    # A bed held for an accepted request not yet admitted is not free to count again.
    held: dict[str, int] = {
        kind: int(count)
        for kind, count in (
            await session.execute(
                select(Admission.bed_kind, func.count())
                .where(
                    Admission.facility_id == f.id,
                    Admission.status == AdmissionStatus.ACCEPTED,
                )
                .group_by(Admission.bed_kind)
            )
        ).all()
    }
    for kind, name in COUNTS.items():
        taken = held.get(kind, 0)
        if taken and getattr(f, f"{name}_free") > getattr(f, f"{name}_total") - taken:
            raise InvalidInput(
                msg(
                    "Số giường trống nhiều nhất là tổng số giường trừ {held} giường đang giữ "
                    "cho người bệnh đã được nhận",
                    held=taken,
                ),
                field=f"{name}_free",
            )
    f.updated_at, f.updated_by_id = utcnow(), actor.user_id
    await session.flush()
    return f


async def list_facilities(
    session: AsyncSession, *, actor: Actor, free: str | None = None
) -> list[Facility]:
    """Facilities and their beds (care roles, and units' officers for their own); with
    `free`, only those with a free bed of that kind, the most free first."""
    stmt = select(Facility).order_by(Facility.name, Facility.id)
    if not allows(actor, Permission.FOLLOW_PATIENTS):
        if not actor.unit_scoped:
            require(actor, Permission.FOLLOW_PATIENTS)
        stmt = stmt.where(Facility.unit_id == actor.unit_id)
    if free is not None:
        if free not in BED_KINDS:
            raise InvalidInput(msg("Loại giường không hợp lệ: {kind}", kind=free), field="free")
        column = getattr(Facility, f"{COUNTS[free]}_free")
        stmt = stmt.where(column > 0).order_by(None).order_by(column.desc(), Facility.id)
    return list((await session.scalars(stmt)).all())
