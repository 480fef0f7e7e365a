"""Who sees a followed patient's health data: the care roles, a doctor only their own
patients (others: NotFound, as if there were none), supervisors and administrators all."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.permissions import Permission, allows, require
from hotline.auth.service import Actor
from hotline.care.models import CarePatient
from hotline.errors import NotFound

PATIENT_NOT_FOUND = "Không tìm thấy người bệnh"


def sees_all(actor: Actor) -> bool:
    return allows(actor, Permission.SEE_ALL_PATIENTS)


def may_follow(actor: Actor) -> None:
    """Refuse (403) a list or a registration to anyone outside the care roles."""
    require(actor, Permission.FOLLOW_PATIENTS)


async def get_patient_for(session: AsyncSession, actor: Actor, patient_id: int) -> CarePatient:
    """The patient if this actor may see them: supervisors and administrators any, a doctor
    the patients assigned to them; anyone else NotFound (their existence is health data)."""
    patient = await session.get(CarePatient, patient_id)
    if (
        patient is None
        or not allows(actor, Permission.FOLLOW_PATIENTS)
        or not (sees_all(actor) or patient.doctor_id == actor.user_id)
    ):
        raise NotFound(PATIENT_NOT_FOUND, field="patient_id")
    return patient


def event_visible(actor: Actor, data: dict[str, Any]) -> bool:
    """A live `care.*` event reaches the patient's doctor, and supervisors and
    administrators; nobody else (operators included)."""
    if sees_all(actor):
        return True
    return actor.user_id is not None and data.get("doctor_id") == actor.user_id


# What a live `care.*` event may say: which patient has news and of what kind, never a
# value (no delivery of a live event is a logged read; the pages read the values, logged).
EVENT_KEYS = frozenset(
    {"patient_id", "doctor_id", "from_doctor_id", "checkin_id", "reason", "due_at"}
)


def event_data(data: dict[str, Any]) -> dict[str, Any]:
    """A `care.*` event's data as sent: only EVENT_KEYS. Events logged before they carried
    no values (a tier, signs, NEWS2) are sent without them, an escalation's reason as
    `escalated` whatever named it then."""
    out = {k: v for k, v in data.items() if k in EVENT_KEYS}
    if out.get("reason") in ("warning_signs", "red_tier"):
        out["reason"] = "escalated"
    return out
