"""Home care's JSON API for a patient's follow-up after registration (docs/care.md): edit
with a trail, reassign, end with a reason, the trail itself. Thin: the rules and the
permissions are in care/followup.py."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from hotline.auth.service import Actor
from hotline.care import followup, service
from hotline.types import Id
from hotline.web.deps import current_actor, get_state
from hotline.web.state import AppState

router = APIRouter(prefix="/api/v1/care", tags=["care"])
ActorDep = Annotated[Actor, Depends(current_actor)]
StateDep = Annotated[AppState, Depends(get_state)]


class PatientEditBody(BaseModel):
    # A field this edit does not know is refused (422 naming it), never silently dropped.
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    address: str | None = Field(default=None, max_length=300)
    ward_code: str | None = Field(default=None, max_length=10)
    status: Literal["F0", "F1"] | None = None
    age: int | None = Field(default=None, ge=0, le=130)
    test_date: date | None = None
    test_type: Literal["rt_pcr", "rapid_antigen"] | None = None
    vaccine_doses: int | None = Field(default=None, ge=0, le=10)
    last_dose_date: date | None = None
    comorbidities: list[str] | None = Field(default=None, max_length=30)
    comorbidities_stable: bool | None = None
    pregnant: bool | None = None
    can_self_care: bool | None = None
    has_carer: bool | None = None


@router.patch("/patients/{patient_id}")
async def edit_patient(
    patient_id: Id, body: PatientEditBody, actor: ActorDep, state: StateDep
) -> dict[str, Any]:
    values = body.model_dump()
    if body.comorbidities is not None:
        values["comorbidities"] = tuple(body.comorbidities)
    async with state.unit_of_work() as session:
        await followup.edit_patient(
            session, actor=actor, patient_id=patient_id, data=followup.PatientEdit(**values)
        )
        view = await service.read_patient(session, actor=actor, patient_id=patient_id)
        return view.as_json()


class EndBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Literal["recovered", "hospitalised", "died", "moved", "other"]
    note: str = Field(default="", max_length=2000)


@router.post("/patients/{patient_id}/end")
async def end_follow_up(
    patient_id: Id, body: EndBody, actor: ActorDep, state: StateDep
) -> dict[str, Any]:
    async with state.unit_of_work() as session:
        await followup.end_follow_up(
            session, actor=actor, patient_id=patient_id, reason=body.reason, note=body.note
        )
        view = await service.read_patient(session, actor=actor, patient_id=patient_id)
        return view.as_json()


class ReassignBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    doctor_id: Id


@router.post("/patients/{patient_id}/reassign")
async def reassign(
    patient_id: Id, body: ReassignBody, actor: ActorDep, state: StateDep
) -> dict[str, Any]:
    async with state.unit_of_work() as session:
        await followup.reassign(
            session, actor=actor, patient_id=patient_id, doctor_id=body.doctor_id
        )
        view = await service.read_patient(session, actor=actor, patient_id=patient_id)
        return view.as_json()


@router.get("/patients/{patient_id}/changes")
async def patient_changes(patient_id: Id, actor: ActorDep, state: StateDep) -> list[dict[str, Any]]:
    async with state.unit_of_work() as session:
        found = await followup.changes_of(session, actor=actor, patient_id=patient_id)
        return [followup.change_json(c) for c in found]
