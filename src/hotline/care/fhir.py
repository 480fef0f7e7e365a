"""A followed patient as an HL7 FHIR R4 Bundle (collection): Patient (deceased when their
follow-up ended with a death), Condition (COVID-19: resolved only by a recovery),
Observations (vital signs, CARE.md's LOINC codes), RiskAssessment, Encounter (each check-in
made by a doctor: a virtual visit; an admission to a facility: an inpatient stay) and Flag
(warning signs: while the urgent case they opened is open, or on the last check-in). Each
entry has a `fullUrl`, a `urn:uuid:` derived from the site's resource id, which the
references use. Plain JSON built here; the tests validate it with `fhir.resources`. One
export is one logged read."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Actor
from hotline.care.escalation import SIGN_TEXT, open_urgent_case
from hotline.care.models import (
    Admission,
    AdmissionStatus,
    CarePatient,
    CareState,
    CheckIn,
    EndReason,
    Facility,
)
from hotline.care.service import read_patient

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
RISK_PROBABILITY = "http://terminology.hl7.org/CodeSystem/risk-probability"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
NATIONAL_ID = "urn:oid:2.16.704.1.0.1"  # this site's naming system for Vietnamese CCCD numbers
# NEWS2 and the colour tiers onto the risk-probability codes.
QUALITATIVE = {"low": "low", "medium": "moderate", "high": "high"}

# field: (LOINC, display, UCUM unit)
VITALS = {
    "spo2": ("2708-6", "Oxygen saturation in Arterial blood", "%"),
    "respiratory_rate": ("9279-1", "Respiratory rate", "/min"),
    "pulse": ("8867-4", "Heart rate", "/min"),
    "temperature": ("8310-5", "Body temperature", "Cel"),
}


# Entries' ids are stable: an export made twice names each resource by the same urn.
_NAMESPACE = uuid.UUID("6f1b3c1e-6d55-4c5e-9a39-7f0c1d2e1022")


def full_url(resource: dict[str, Any]) -> str:
    name = "{}/{}".format(resource["resourceType"], resource["id"])
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, name)}"


def _coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def _vital_category() -> list[dict[str, Any]]:
    return [{"coding": [_coding(OBS_CATEGORY, "vital-signs", "Vital Signs")]}]


def _quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def _observations(c: CheckIn, subject: dict[str, str]) -> list[dict[str, Any]]:
    out = []
    when = c.at.isoformat()
    for name, (code, display, unit) in VITALS.items():
        value = getattr(c, name)
        if value is None:
            continue
        codings = [_coding(LOINC, code, display)]
        if name == "spo2":
            codings.append(_coding(LOINC, "59408-5", "Oxygen saturation by Pulse oximetry"))
        out.append(
            {
                "resourceType": "Observation",
                "id": f"obs-{c.id}-{name.replace('_', '-')}",
                "status": "final",
                "category": _vital_category(),
                "code": {"coding": codings},
                "subject": subject,
                "effectiveDateTime": when,
                "valueQuantity": _quantity(value, unit),
            }
        )
    if c.systolic_bp is not None or c.diastolic_bp is not None:
        parts = [
            (code, display, value)
            for code, display, value in (
                ("8480-6", "Systolic blood pressure", c.systolic_bp),
                ("8462-4", "Diastolic blood pressure", c.diastolic_bp),
            )
            if value is not None
        ]
        out.append(
            {
                "resourceType": "Observation",
                "id": f"obs-{c.id}-bp",
                "status": "final",
                "category": _vital_category(),
                "code": {"coding": [_coding(LOINC, "85354-9", "Blood pressure panel")]},
                "subject": subject,
                "effectiveDateTime": when,
                "component": [
                    {
                        "code": {"coding": [_coding(LOINC, code, display)]},
                        "valueQuantity": _quantity(value, "mm[Hg]"),
                    }
                    for code, display, value in parts
                ],
            }
        )
    if c.consciousness is not None:
        out.append(
            {
                "resourceType": "Observation",
                "id": f"obs-{c.id}-consciousness",
                "status": "final",
                "category": _vital_category(),
                "code": {"coding": [_coding(LOINC, "67775-7", "Level of responsiveness")]},
                "subject": subject,
                "effectiveDateTime": when,
                "valueString": c.consciousness,
            }
        )
    return out


async def _stays(
    session: AsyncSession, p: CarePatient, subject: dict[str, str]
) -> list[dict[str, Any]]:
    """The patient's admission to a facility as an inpatient Encounter: in progress while
    they are admitted, finished when their follow-up ended (as far as this record knows)."""
    rows = await session.execute(
        select(Admission, Facility.name)
        .join(Facility, Facility.id == Admission.facility_id)
        .where(Admission.patient_id == p.id, Admission.status == AdmissionStatus.ADMITTED)
        .order_by(Admission.id)
    )
    out = []
    for a, facility in rows.all():
        period = {"start": a.updated_at.isoformat()}
        if p.state == CareState.ENDED and p.ended_at is not None:
            period["end"] = p.ended_at.isoformat()
        out.append(
            {
                "resourceType": "Encounter",
                "id": f"admission-{a.id}",
                "status": "finished" if "end" in period else "in-progress",
                "class": _coding(ACT_CODE, "IMP", "inpatient encounter"),
                "subject": subject,
                "serviceProvider": {"display": facility},
                "period": period,
            }
        )
    return out


async def patient_bundle(session: AsyncSession, *, actor: Actor, patient_id: int) -> dict[str, Any]:
    """The patient's record as a FHIR R4 collection Bundle (the read is logged)."""
    view = await read_patient(session, actor=actor, patient_id=patient_id, purpose="care_fhir")
    p = view.patient
    # Read with the patient above: one export, one logged read.
    checkins = list(
        (
            await session.scalars(
                select(CheckIn)
                .where(CheckIn.patient_id == p.id)
                .order_by(CheckIn.at.desc(), CheckIn.id.desc())
                .limit(200)
            )
        ).all()
    )
    pid = f"patient-{p.id}"
    subject = {"reference": full_url({"resourceType": "Patient", "id": pid})}
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "id": pid,
        "name": [{"text": view.name}] if view.name else [],
        "telecom": [{"system": "phone", "value": phone} for phone in view.phones],
    }
    if p.national_id:
        patient["identifier"] = [{"system": NATIONAL_ID, "value": p.national_id}]
    if p.address:
        patient["address"] = [{"text": p.address}]
    if p.end_reason == EndReason.DIED:
        # The record knows when the follow-up was ended, not the time of death.
        patient["deceasedBoolean"] = True
    resources: list[dict[str, Any]] = [patient]
    if p.status.value == "F0":
        # Only a recovery resolves it: admitted to a facility the patient is still ill, and a
        # death (on the Patient), a move or another end leaves it as last known: active.
        resolved = p.end_reason == EndReason.RECOVERED
        condition: dict[str, Any] = {
            "resourceType": "Condition",
            "id": f"condition-{p.id}-covid19",
            "clinicalStatus": {
                "coding": [_coding(CONDITION_CLINICAL, "resolved" if resolved else "active")]
            },
            "code": {
                "coding": [
                    _coding(SNOMED, "840539006", "Disease caused by SARS-CoV-2"),
                    _coding(ICD10, "U07.1", "COVID-19, virus identified"),
                ],
                "text": "COVID-19",
            },
            "subject": subject,
        }
        if p.test_date:
            condition["onsetDateTime"] = p.test_date.isoformat()
        if resolved and p.ended_at is not None:
            condition["abatementDateTime"] = p.ended_at.isoformat()
        resources.append(condition)
    resources.extend(await _stays(session, p, subject))
    for c in checkins:
        resources.extend(_observations(c, subject))
        if c.source == "doctor":
            resources.append(
                {
                    "resourceType": "Encounter",
                    "id": f"encounter-{c.id}",
                    "status": "finished",
                    "class": _coding(ACT_CODE, "VR", "virtual"),
                    "subject": subject,
                    "period": {"start": c.at.isoformat(), "end": c.at.isoformat()},
                }
            )
    if checkins:
        last = checkins[0]
        resources.append(
            {
                "resourceType": "RiskAssessment",
                "id": f"risk-{last.id}",
                "status": "final",
                "subject": subject,
                "occurrenceDateTime": last.at.isoformat(),
                "method": {"text": last.rule_set_version},
                "prediction": [
                    {
                        "outcome": {"text": f"tier {last.tier}, severity {last.severity}"},
                        "qualitativeRisk": {
                            "coding": [_coding(RISK_PROBABILITY, QUALITATIVE[last.risk])]
                        },
                    }
                ],
                "note": [{"text": f"NEWS2 {last.news2}; decision support, a doctor decides"}],
            }
        )
        # The warning stands while the urgent case it opened is open, whatever a later
        # (partial) check-in showed; otherwise it is the last check-in's.
        flagged = last if last.warning_signs else None
        if flagged is None and await open_urgent_case(session, p) is not None:
            flagged = next((c for c in checkins if c.warning_signs), None)
        if flagged is not None:
            # The signs in words (the site's language, as the urgent case names them); the
            # flag stands no more once the follow-up ended (recovered, died, moved ...).
            signs = ", ".join(SIGN_TEXT.get(s, s) for s in flagged.warning_signs)
            period = {"start": flagged.at.isoformat()}
            ended = p.state == CareState.ENDED
            if ended and p.ended_at is not None:
                period["end"] = p.ended_at.isoformat()
            resources.append(
                {
                    "resourceType": "Flag",
                    "id": f"flag-{flagged.id}",
                    "status": "inactive" if ended else "active",
                    "code": {"text": "Dấu hiệu cảnh báo: " + signs},
                    "subject": subject,
                    "period": period,
                }
            )
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": full_url(r), "resource": r} for r in resources],
    }
