"""Escalation of a warning sign or a red tier (risk.py `Risk.escalates`): an urgent `cap_cuu`
case (channel `care`: the system made it, nobody phoned or wrote) forwarded to the 115 unit,
and a live alert to the doctor and the supervisors.

The case is read by every operator and found by case search, so its text holds only what
the 115 unit needs to act: the warning signs first (the unit's inbox shows a case's first
line), SpO2 and respiratory rate, an age band, and that the person is followed at home. The
caller's name, phone and address are the case's contact and address, as for any case.
Comorbidities, pregnancy, test dates and the other vitals stay in the care record, which
only the care roles read (access.py), each read logged.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import SYSTEM
from hotline.care.models import CarePatient, CheckIn
from hotline.care.risk import Risk
from hotline.cases.models import Case, CaseStatus
from hotline.cases.service import NewCase, open_case
from hotline.cases.workflow import forward_case
from hotline.directory.service import suggest_units
from hotline.events import DomainEvent, record_event

OPEN_CASE = (CaseStatus.NEW, CaseStatus.IN_PROGRESS, CaseStatus.FORWARDED, CaseStatus.ACCEPTED)

# The case text is stored in the site's language (Vietnamese), as operators type theirs.
SIGN_TEXT = {
    "respiratory_rate": "thở nhanh",
    "spo2": "SpO2 thấp",
    "pulse": "mạch bất thường",
    "blood_pressure": "huyết áp thấp",
    "breathlessness": "khó thở",
    "severe_breathlessness": "khó thở nặng",
    "accessory_muscles": "co kéo cơ hô hấp phụ",
    "grunting": "thở rên",
    "chest_indrawing": "rút lõm lồng ngực",
    "nasal_flaring": "phập phồng cánh mũi",
    "stridor": "thở rít",
    "chest_pain": "đau tức ngực kéo dài",
    "confusion": "lú lẫn",
    "drowsiness": "lơ mơ",
    "convulsions": "co giật",
    "cyanosis": "tím tái",
    "cannot_drink": "trẻ không uống được",
    "new_acute_illness": "bệnh cấp tính mới",
}
SEVERITY_TEXT = {
    "asymptomatic": "không triệu chứng",
    "mild": "nhẹ",
    "moderate": "trung bình",
    "severe": "nặng",
    "critical": "nguy kịch",
}
TIER_TEXT = {"green": "xanh", "yellow": "vàng", "orange": "cam", "red": "đỏ"}
# Upper bounds (exclusive) of the age bands: the children's bands are those of the
# respiratory-rate warning thresholds (CARE.md).
AGE_BANDS = ((1, "dưới 1 tuổi"), (5, "1–4 tuổi"), (12, "5–11 tuổi"), (18, "12–17 tuổi"))


def age_band(age: int | None) -> str:
    """An age band, not the age: enough for the ambulance crew, less to identify."""
    if age is None:
        return "tuổi chưa rõ"
    for below, text in AGE_BANDS:
        if age < below:
            return text
    if age >= 80:
        return "từ 80 tuổi"
    low = age // 10 * 10 if age >= 20 else 18
    return f"{low}–{age // 10 * 10 + 9} tuổi"


def case_text(patient: CarePatient, checkin: CheckIn, risk: Risk) -> str:
    """The urgent case's description: signs first (or, escalated on a red tier without
    one, the severity or NEWS2 that made it red), then SpO2 and RR, the age band."""
    if risk.warning_signs:
        signs = ", ".join(SIGN_TEXT.get(s, s) for s in risk.warning_signs)
        first = f"Dấu hiệu cảnh báo: {signs}."
    elif risk.severity in ("severe", "critical"):
        first = f"Nguy cơ cao: mức độ {SEVERITY_TEXT[risk.severity]}."
    else:
        first = f"Nguy cơ cao: NEWS2 {risk.news2}."
    measured = [
        f"SpO2 {checkin.spo2}%" if checkin.spo2 is not None else "SpO2 chưa đo",
        (
            f"nhịp thở {checkin.respiratory_rate}/phút"
            if checkin.respiratory_rate is not None
            else "nhịp thở chưa đo"
        ),
    ]
    return (
        f"{first} {', '.join(measured)}; {age_band(patient.age)}.\n"
        f"Người bệnh {patient.status.value} theo dõi tại nhà (mạng lưới bác sĩ, "
        f"người bệnh #{patient.id}); NEWS2 {risk.news2}, phân tầng "
        f"{TIER_TEXT.get(risk.tier, risk.tier)}. Hỗ trợ quyết định: bác sĩ phụ trách quyết định."
    )


async def open_urgent_case(session: AsyncSession, patient: CarePatient) -> Case | None:
    """The urgent case the patient's last escalation opened, if it is still open."""
    if patient.urgent_case_id is None:
        return None
    case = await session.get(Case, patient.urgent_case_id)
    return case if case is not None and case.status in OPEN_CASE else None


async def escalate(
    session: AsyncSession, patient: CarePatient, checkin: CheckIn, risk: Risk
) -> str:
    """Open an urgent `cap_cuu` case forwarded to the 115 unit (unless the last one is
    still open), and alert the doctor and the supervisors live. Returns the case's code."""
    case = await open_urgent_case(session, patient)
    if case is None:
        case = await open_case(
            session,
            actor=SYSTEM,
            data=NewCase(
                channel="care",
                description=case_text(patient, checkin, risk),
                category="cap_cuu",
                urgent=True,
                contact_id=patient.contact_id,
                ward_code=patient.ward_code,
                address=patient.address,
            ),
        )
        units = await suggest_units(session, category_code="cap_cuu", ward_code=patient.ward_code)
        if not units:
            # Isolating where no unit of the site reaches (another province, no ward given):
            # still the site's patient, so the site's own province-wide 115 coordinates.
            units = await suggest_units(session, category_code="cap_cuu", ward_code=None)
        if units:
            await forward_case(
                session,
                actor=SYSTEM,
                case=case,
                unit_id=units[0].id,
                note=f"Theo dõi tại nhà: người bệnh #{patient.id}",
            )
        patient.urgent_case_id = case.id
    # The live event says which patient has news, not what: it reaches every open screen
    # of the doctor and the supervisors and stays in the event log, where no delivery is
    # a logged read. The pages fetch the signs and scores on it (/care/alerts/list, the
    # worklist), each fetch a logged read of the patient.
    record_event(
        session,
        DomainEvent(
            kind="care.alert",
            case_code=case.code,
            data={
                "patient_id": patient.id,
                "doctor_id": patient.doctor_id,
                "reason": "escalated",
                "checkin_id": checkin.id,
            },
        ),
    )
    return case.code
