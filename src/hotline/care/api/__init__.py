"""Home care's JSON API (docs/care.md): doctors, patients, check-ins, worklist, facilities,
admissions, consult requests and the FHIR export. Thin: every rule and permission is in the
services."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from hotline.auth.service import Actor
from hotline.care import (
    admissions,
    checkins,
    consults,
    doctors,
    facilities,
    links,
    registration,
    service,
    views,
)
from hotline.care.fhir import patient_bundle
from hotline.types import Id, Int32
from hotline.web.deps import current_actor, get_state
from hotline.web.state import AppState

router = APIRouter(prefix="/api/v1/care", tags=["care"])
ActorDep = Annotated[Actor, Depends(current_actor)]
StateDep = Annotated[AppState, Depends(get_state)]
Small = Annotated[int, Field(ge=-1000, le=1000)]
Count = Annotated[int, Field(ge=0, le=100_000)]


def _whole_text(value: Any) -> Any:
    """A whole-number measure typed as text ("nhanh", "97.5"): refused as pydantic refuses
    text for an int ("Phải là số nguyên"), though the field takes any number."""
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            raise PydanticCustomError("int_parsing", "Input should be a valid integer") from None
    return value


Whole = Annotated[float | None, BeforeValidator(_whole_text)]


class Strict(BaseModel):
    """A request body refusing unknown fields, each named (422): a misspelt `SpO2` must not
    be dropped silently and leave the patient looking well."""

    model_config = ConfigDict(extra="forbid")


class WindowBody(Strict):
    group: Literal["consult", "proactive"]
    start: str = Field(max_length=5)
    end: str = Field(max_length=5)
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(
        default_factory=lambda: list(range(7)), min_length=1, max_length=7
    )


class DoctorBody(Strict):
    """A doctor's profile; a field left out (or null) takes its default on POST and keeps
    its value on PUT (care/doctors.py DoctorIn)."""

    years_experience: Small
    groups: list[str] | None = Field(default=None, max_length=2)
    specialty: str | None = Field(default=None, max_length=120)
    licence_number: str | None = Field(default=None, max_length=40)
    phone: str | None = Field(default=None, max_length=40)
    capacity: Count | None = None
    availability: list[WindowBody] | None = Field(default=None, max_length=100)
    active: bool | None = None

    def data(self) -> doctors.DoctorIn:
        return doctors.DoctorIn(
            years_experience=self.years_experience,
            groups=None if self.groups is None else tuple(self.groups),
            specialty=self.specialty,
            licence_number=self.licence_number,
            phone=self.phone,
            capacity=self.capacity,
            availability=None
            if self.availability is None
            else tuple(
                doctors.WindowIn(
                    group=w.group, start=w.start, end=w.end, weekdays=tuple(w.weekdays)
                )
                for w in self.availability
            ),
            active=self.active,
        )


class NewDoctorBody(DoctorBody):
    user_id: Id


@router.get("/doctors")
async def list_doctors(
    actor: ActorDep, state: StateDep, group: Literal["consult", "proactive"] | None = None
) -> list[dict[str, object]]:
    async with state.unit_of_work(read_only=True) as session:
        found = await doctors.list_doctors(session, actor=actor, group=group)
        return [v.as_json() for v in await doctors.views_of(session, found)]


@router.post("/doctors", status_code=201)
async def create_doctor(body: NewDoctorBody, actor: ActorDep, state: StateDep) -> dict[str, object]:
    async with state.unit_of_work() as session:
        d = await doctors.save_doctor(
            session, actor=actor, user_id=body.user_id, data=body.data(), create=True
        )
        return (await doctors.views_of(session, [d]))[0].as_json()


@router.put("/doctors/{user_id}")
async def replace_doctor(
    user_id: Id, body: DoctorBody, actor: ActorDep, state: StateDep
) -> dict[str, object]:
    async with state.unit_of_work() as session:
        d = await doctors.save_doctor(
            session, actor=actor, user_id=user_id, data=body.data(), create=False
        )
        return (await doctors.views_of(session, [d]))[0].as_json()


class PatientBody(Strict):
    status: Literal["F0", "F1"]
    name: str = Field(default="", max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    case_code: str | None = Field(default=None, max_length=40)
    national_id: str | None = Field(default=None, max_length=20)
    age: Annotated[int, Field(ge=0, le=130)] | None = None
    test_date: date | None = None
    test_type: Literal["rt_pcr", "rapid_antigen"] | None = None
    vaccine_doses: Annotated[int, Field(ge=0, le=10)] = 0
    last_dose_date: date | None = None
    comorbidities: list[str] = Field(default_factory=list, max_length=30)
    comorbidities_stable: bool = False
    pregnant: bool = False
    ward_code: str | None = Field(default=None, max_length=10)
    address: str = Field(default="", max_length=300)
    can_self_care: bool = True
    has_carer: bool = False
    spo2: Annotated[int, Field(ge=50, le=100)] | None = None
    respiratory_rate: Annotated[int, Field(ge=1, le=80)] | None = None
    symptoms: list[str] = Field(default_factory=list, max_length=30)
    doctor_id: Id | None = None


@router.post("/patients", status_code=201)
async def register(body: PatientBody, actor: ActorDep, state: StateDep) -> dict[str, Any]:
    values = body.model_dump()
    values["comorbidities"] = tuple(body.comorbidities)
    values["symptoms"] = tuple(body.symptoms)
    async with state.unit_of_work() as session:
        patient = await registration.register_patient(
            session, actor=actor, data=registration.PatientIn(**values)
        )
        # The registration's echo: what the caller just sent, plus where it landed.
        out = (await views.registered_view(session, patient)).as_json()
        out["checkin_link"] = links.link_of(session, patient)
        return out


@router.get("/patients")
async def list_patients(
    actor: ActorDep,
    state: StateDep,
    status: Literal["F0", "F1"] | None = None,
    care_state: Annotated[
        Literal["active", "admitted", "ended"] | None, Query(alias="state")
    ] = None,
    tier: Literal["green", "yellow", "orange", "red"] | None = None,
    doctor_id: Id | None = None,
    ward_code: Annotated[str | None, Query(max_length=10)] = None,
    eligible: bool | None = None,
    unassigned: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    filters = service.PatientFilter(
        status=status,
        state=care_state,
        tier=tier,
        doctor_id=doctor_id,
        ward_code=ward_code,
        eligible=eligible,
        unassigned=unassigned,
    )
    async with state.unit_of_work() as session:
        views = await service.list_patients(session, actor=actor, filters=filters, limit=limit)
        return [v.as_json() for v in views]


@router.get("/patients/{patient_id}")
async def get_patient(patient_id: Id, actor: ActorDep, state: StateDep) -> dict[str, Any]:
    async with state.unit_of_work() as session:
        view = await service.read_patient(session, actor=actor, patient_id=patient_id)
        out = view.as_json()
        out["checkin_link"] = links.link_of(session, view.patient)
        return out


class CheckInBody(Strict):
    # Each measure any JSON number (a plain float, which the app-wide 64-bit check leaves
    # alone): one beyond every range (1e400) is answered with the measure's own range by the
    # service (checkins.RANGES), a fraction where a whole number is due with "Phải là số
    # nguyên"; the service makes the whole ones ints.
    spo2: Whole = None
    respiratory_rate: Whole = None
    pulse: Whole = None
    temperature: float | None = None
    systolic_bp: Whole = None
    diastolic_bp: Whole = None
    consciousness: str | None = Field(default=None, max_length=20)
    symptoms: list[str] | None = Field(default=None, max_length=30)
    on_oxygen: bool = False
    note: str = Field(default="", max_length=2000)


@router.post("/patients/{patient_id}/checkins", status_code=201)
async def check_in(
    patient_id: Id, body: CheckInBody, actor: ActorDep, state: StateDep
) -> dict[str, Any]:
    data = checkins.CheckInData(
        **{**body.model_dump(), "symptoms": body.symptoms and tuple(body.symptoms)}
    )
    async with state.unit_of_work() as session:
        done = await checkins.record_by_doctor(
            session, actor=actor, patient_id=patient_id, data=data
        )
        return done.as_json()


@router.get("/patients/{patient_id}/checkins")
async def list_checkins(patient_id: Id, actor: ActorDep, state: StateDep) -> list[dict[str, Any]]:
    async with state.unit_of_work() as session:
        found = await checkins.list_checkins(session, actor=actor, patient_id=patient_id)
        return [checkins.checkin_json(c) for c in found]


@router.get("/patients/{patient_id}/fhir")
async def fhir(patient_id: Id, actor: ActorDep, state: StateDep) -> Response:
    import json

    async with state.unit_of_work() as session:
        bundle = await patient_bundle(session, actor=actor, patient_id=patient_id)
    return Response(json.dumps(bundle, ensure_ascii=False), media_type="application/fhir+json")


@router.post("/patients/{patient_id}/link")
async def renew_link(patient_id: Id, actor: ActorDep, state: StateDep) -> dict[str, str]:
    async with state.unit_of_work() as session:
        return {"checkin_link": await links.renew_link(session, actor=actor, patient_id=patient_id)}


@router.get("/worklist")
async def worklist(actor: ActorDep, state: StateDep) -> list[dict[str, Any]]:
    async with state.unit_of_work() as session:
        return [item.as_json() for item in await service.worklist(session, actor=actor)]


class BedsBody(Strict):
    beds_total: Count | None = None
    beds_free: Count | None = None
    oxygen_beds_total: Count | None = None
    oxygen_beds_free: Count | None = None
    icu_beds_total: Count | None = None
    icu_beds_free: Count | None = None


class FacilityBody(BedsBody):
    unit_id: Int32
    name: str = Field(max_length=200)
    address: str = Field(default="", max_length=300)
    ward_code: str | None = Field(default=None, max_length=10)


@router.get("/facilities")
async def list_facilities(
    actor: ActorDep, state: StateDep, free: Literal["general", "oxygen", "icu"] | None = None
) -> list[dict[str, Any]]:
    async with state.unit_of_work(read_only=True) as session:
        found = await facilities.list_facilities(session, actor=actor, free=free)
        return [facilities.facility_json(f) for f in found]


@router.post("/facilities", status_code=201)
async def create_facility(body: FacilityBody, actor: ActorDep, state: StateDep) -> dict[str, Any]:
    beds = facilities.BedsIn(**body.model_dump(include=set(BedsBody.model_fields)))
    async with state.unit_of_work() as session:
        f = await facilities.create_facility(
            session,
            actor=actor,
            unit_id=body.unit_id,
            name=body.name,
            address=body.address,
            ward_code=body.ward_code,
            beds=beds,
        )
        return facilities.facility_json(f)


@router.patch("/facilities/{facility_id}")
async def update_beds(
    facility_id: Int32, body: BedsBody, actor: ActorDep, state: StateDep
) -> dict[str, Any]:
    async with state.unit_of_work() as session:
        f = await facilities.update_beds(
            session,
            actor=actor,
            facility_id=facility_id,
            beds=facilities.BedsIn(**body.model_dump()),
        )
        return facilities.facility_json(f)


class AdmissionBody(Strict):
    facility_id: Int32
    bed_kind: Literal["general", "oxygen", "icu"]
    note: str = Field(default="", max_length=2000)


class AdmissionAnswer(Strict):
    status: Literal["accepted", "refused", "admitted", "cancelled"]


@router.post("/patients/{patient_id}/admissions", status_code=201)
async def request_admission(
    patient_id: Id, body: AdmissionBody, actor: ActorDep, state: StateDep
) -> dict[str, Any]:
    async with state.unit_of_work() as session:
        a = await admissions.request_admission(
            session,
            actor=actor,
            patient_id=patient_id,
            facility_id=body.facility_id,
            bed_kind=body.bed_kind,
            note=body.note,
        )
        return admissions.admission_json(a)


@router.get("/patients/{patient_id}/admissions")
async def admissions_of(patient_id: Id, actor: ActorDep, state: StateDep) -> list[dict[str, Any]]:
    async with state.unit_of_work() as session:  # the read is logged
        found = await admissions.admissions_of(session, actor=actor, patient_id=patient_id)
        return [admissions.admission_json(a) for a in found]


@router.get("/facilities/{facility_id}/admissions")
async def facility_admissions(
    facility_id: Int32, actor: ActorDep, state: StateDep
) -> list[dict[str, Any]]:
    async with state.unit_of_work() as session:  # the reads are logged
        found = await admissions.facility_admissions(session, actor=actor, facility_id=facility_id)
        return [admissions.admission_json(a) for a in found]


@router.post("/admissions/{admission_id}")
async def answer_admission(
    admission_id: Id, body: AdmissionAnswer, actor: ActorDep, state: StateDep
) -> dict[str, Any]:
    async with state.unit_of_work() as session:
        a = await admissions.answer_admission(
            session, actor=actor, admission_id=admission_id, status=body.status
        )
        return admissions.admission_json(a)


class ConsultBody(Strict):
    phone: str = Field(max_length=40)
    text: str = Field(default="", max_length=4000)
    source: Literal["staff", "message"] = "staff"


@router.get("/consults")
async def list_consults(
    actor: ActorDep,
    state: StateDep,
    status: Literal["open", "taken", "done"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[dict[str, object]]:
    """A doctor: the consult requests of their windows; supervisors: all; by due time."""
    async with state.unit_of_work() as session:
        found = await consults.list_consults(session, actor=actor, status=status, limit=limit)
        return [v.as_json() for v in found]


@router.post("/consults", status_code=201)
async def create_consult(body: ConsultBody, actor: ActorDep, state: StateDep) -> dict[str, object]:
    async with state.unit_of_work() as session:
        view = await consults.create_consult(
            session, actor=actor, phone=body.phone, text=body.text, source=body.source
        )
        return view.as_json()


@router.post("/consults/{consult_id}/take")
async def take_consult(consult_id: Id, actor: ActorDep, state: StateDep) -> dict[str, object]:
    async with state.unit_of_work() as session:
        view = await consults.take_consult(session, actor=actor, consult_id=consult_id)
        return view.as_json()


@router.post("/consults/{consult_id}/done")
async def finish_consult(consult_id: Id, actor: ActorDep, state: StateDep) -> dict[str, object]:
    async with state.unit_of_work() as session:
        view = await consults.finish_consult(session, actor=actor, consult_id=consult_id)
        return view.as_json()
