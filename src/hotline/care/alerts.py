"""The alerts standing now, for the care coordinator's view (`/care/alerts`): followed patients
whose latest check-in escalated (a warning sign or a red tier, with the urgent case it
opened), those whose urgent case is still open though their latest check-in is calmer, and
check-ins missed and not made up since. Read from the care tables, not the event log: the
log is pruned and its `care.alert` rows are one per escalation, while an alert stands until
the patient's next check-in clears it (or their follow-up at home ends). The `care.alert`
events of the live stream tell the page when to read this again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Actor
from hotline.care.access import may_follow, sees_all
from hotline.care.escalation import OPEN_CASE
from hotline.care.models import CarePatient, CareState, CheckInSlot, SlotState
from hotline.care.risk import TIER_RANK
from hotline.care.service import RANK_TIER, views_of
from hotline.cases.models import Case
from hotline.contacts.service import ReadSubject, log_personal_reads
from hotline.db import utcnow

# A missed check-in older than this is no longer shown as an alert (the worklist still counts
# the day's missed ones).
MISSED_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Alert:
    reason: str  # warning_signs (or a red tier) | urgent_case (still open) | missed_checkin
    at: datetime  # the check-in with the signs, or the missed check-in's due time
    patient_id: int
    name: str
    phone: str | None
    doctor_id: int | None
    tier: str | None
    warning_signs: tuple[str, ...]
    news2: int | None
    case_code: str | None  # the urgent case, while it is open
    severity: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "at": self.at.isoformat(),
            "patient_id": self.patient_id,
            "name": self.name,
            "phone": self.phone,
            "doctor_id": self.doctor_id,
            "tier": self.tier,
            "warning_signs": list(self.warning_signs),
            "news2": self.news2,
            "case_code": self.case_code,
            "severity": self.severity,
        }


async def current_alerts(
    session: AsyncSession, *, actor: Actor, now: datetime | None = None, limit: int = 200
) -> list[Alert]:
    """The alerts standing now, newest first: every patient's for supervisors and
    administrators, a doctor's own patients' for a doctor, refused (403) to anyone else.
    The read of each patient shown is logged (`care_alerts`)."""
    may_follow(actor)
    now = now or utcnow()
    mine = None if sees_all(actor) else actor.user_id
    signed = select(CarePatient).where(
        CarePatient.state == CareState.ACTIVE,
        or_(
            CarePatient.risk_rank >= TIER_RANK["orange"] * RANK_TIER,
            CarePatient.urgent_case_id.is_not(None),
        ),
    )
    if mine is not None:
        signed = signed.where(CarePatient.doctor_id == mine)
    candidates = (
        await session.scalars(
            signed.order_by(CarePatient.last_checkin_at.desc(), CarePatient.id).limit(limit)
        )
    ).all()
    missed_q = (
        select(CheckInSlot, CarePatient)
        .join(CarePatient, CarePatient.id == CheckInSlot.patient_id)
        .where(
            CheckInSlot.state == SlotState.MISSED,
            CheckInSlot.due_at >= now - MISSED_WINDOW,
            CarePatient.state == CareState.ACTIVE,
        )
        .order_by(CheckInSlot.due_at.desc())
        .limit(limit)
    )
    if mine is not None:
        missed_q = missed_q.where(CarePatient.doctor_id == mine)
    missed: dict[int, tuple[CheckInSlot, CarePatient]] = {}
    for slot, patient in (await session.execute(missed_q)).all():
        made_up = patient.last_checkin_at is not None and patient.last_checkin_at > slot.due_at
        if not made_up and patient.id not in missed:
            missed[patient.id] = (slot, patient)
    case_ids = {p.urgent_case_id for p in candidates if p.urgent_case_id is not None}
    case_ids |= {p.urgent_case_id for _s, p in missed.values() if p.urgent_case_id is not None}
    open_cases = (
        dict(
            (
                await session.execute(
                    select(Case.id, Case.code).where(
                        Case.id.in_(case_ids), Case.status.in_(OPEN_CASE)
                    )
                )
            ).all()
        )
        if case_ids
        else {}
    )

    def escalated(p: CarePatient) -> bool:
        r = p.last_result or {}
        return bool(r.get("warning_signs") or r.get("escalates"))

    # An urgent case still open keeps the patient listed: the 115 unit may be on its way
    # though the latest check-in is calmer.
    flagged = [p for p in candidates if escalated(p) or p.urgent_case_id in open_cases]
    patients = {p.id: p for p in flagged} | {p.id: p for _s, p in missed.values()}
    views = {v.patient.id: v for v in await views_of(session, list(patients.values()))}

    def alert(p: CarePatient, reason: str, at: datetime) -> Alert:
        r = p.last_result or {}
        view = views[p.id]
        return Alert(
            reason=reason,
            at=at,
            patient_id=p.id,
            name=view.name,
            phone=view.phones[0] if view.phones else None,
            doctor_id=p.doctor_id,
            tier=r.get("tier"),
            warning_signs=tuple(r.get("warning_signs", ()) if reason == "warning_signs" else ()),
            news2=r.get("news2"),
            case_code=open_cases.get(p.urgent_case_id) if p.urgent_case_id else None,
            severity=r.get("severity"),
        )

    found = [
        alert(p, "warning_signs" if escalated(p) else "urgent_case", p.last_checkin_at or now)
        for p in flagged
    ]
    found += [alert(p, "missed_checkin", slot.due_at) for slot, p in missed.values()]
    found.sort(key=lambda a: (a.at, a.patient_id), reverse=True)
    found = found[:limit]
    await log_personal_reads(
        session,
        user_id=actor.user_id,
        purpose="care_alerts",
        subjects=[
            ReadSubject(contact_id=patients[pid].contact_id)
            for pid in dict.fromkeys(a.patient_id for a in found)
        ],
    )
    return found
