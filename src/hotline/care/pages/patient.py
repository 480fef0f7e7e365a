"""A followed patient's page (`/care/patients/{id}`): who they are and why they may be
cared for at home, today's check-ins, the vital signs charted, every check-in with its risk
result and rule-set versions, their calls, and the form a doctor records a check-in with
during a call (`POST /care/patients/{id}/checkins`, the API's service). A patient this user
may not see answers 404, as the API does."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hotline.auth.service import display_names
from hotline.care import checkins, followup, links, service
from hotline.care.access import sees_all
from hotline.care.calls import calls_of_patient
from hotline.care.case_refs import case_refs
from hotline.care.doctors import list_doctors
from hotline.care.models import CareState, EndReason
from hotline.care.pages.charts import charts_of
from hotline.care.pages.doctor import base_context, signed_in
from hotline.care.pages.forms import EXPIRED, FIELDS, numbers_of, symptoms_of
from hotline.care.pages.reasons import reason_message
from hotline.care.rulesets import COMORBIDITIES, CONSCIOUSNESS, SYMPTOMS
from hotline.cases.transitions import STATUS_LABELS_VI
from hotline.errors import InvalidInput
from hotline.types import Id
from hotline.web.deps import get_state
from hotline.web.inputs import FormRefusals, without_nul
from hotline.web.page import csrf_matches, templates_for
from hotline.web.state import AppState

templates = templates_for(__file__)
router = APIRouter(include_in_schema=False)
StateDep = Annotated[AppState, Depends(get_state)]
FormText = Annotated[str, Form()]
# A refusal named after one of these goes next to it; any other on top of the form. In the
# form's order: the first with a mistake takes the focus.
FORM_ORDER = (*(name for name, *_ in FIELDS), "consciousness", "symptoms", "note")
FORM_FIELDS = frozenset(FORM_ORDER)
# The follow-up forms' fields (pages/followup.py), named apart from the check-in form's.
FOLLOWUP_ORDER = (
    "end_reason",
    "end_note",
    "edit_name",
    "edit_phone",
    "edit_address",
    "edit_ward_code",
    "edit_comorbidities",
    "reassign_doctor_id",
)


async def render(
    request: Request,
    state: AppState,
    patient_id: int,
    *,
    typed: dict[str, Any] | None = None,
    errors: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    async with state.unit_of_work() as session:
        actor = await signed_in(request, state, session)
        if actor is None:
            return RedirectResponse("/login", status_code=303)
        context = await base_context(request, state, session, actor)
        view = await service.read_patient(session, actor=actor, patient_id=patient_id)
        found = await checkins.list_checkins(session, actor=actor, patient_id=patient_id)
        calls = await calls_of_patient(session, actor=actor, patient_id=patient_id)
        people = {c.by_user_id for c in found if c.by_user_id} | {
            c.operator_id for c in calls if c.operator_id
        }
        people |= {i for i in (view.patient.doctor_id, view.patient.ended_by_id) if i}
        trail = await followup.changes_of(session, actor=actor, patient_id=patient_id)
        people |= {c.user_id for c in trail if c.user_id}
        people |= {
            v
            for c in trail
            for v in (c.before.get("doctor_id"), c.after.get("doctor_id"))
            if isinstance(v, int)
        }
        # The forms the services would take from this user; the services check again.
        coordinator = sees_all(actor)
        doctors = await list_doctors(session, actor=actor) if coordinator else []
        people |= {d.user_id for d in doctors}
        state_now = view.patient.state
        # Shown as links only to those the cases service lets open them.
        cases = await case_refs(
            session,
            actor=actor,
            codes=[view.case_code, view.urgent_case_code, *(c.case_code for c in found)],
        )
        context.update(
            view=view,
            p=view.patient,
            checkins=found,
            latest=found[0] if found else None,
            charts=charts_of(found),
            calls=calls,
            case_refs=cases,
            case_labels=STATUS_LABELS_VI,
            names=await display_names(session, people),
            checkin_link=links.link_of(session, view.patient),
            fields=[(name, label, unit) for name, label, unit, _kind in FIELDS],
            consciousness=CONSCIOUSNESS,
            symptoms=SYMPTOMS,
            # What a check-in that does not ask about symptoms carries forward.
            standing=sorted(checkins.standing_in(found[: checkins.LOOK_BACK])),
            typed=typed or {},
            errors=errors or {},
            first_error=next(
                (n for n in (*FORM_ORDER, *FOLLOWUP_ORDER) if n in (errors or {})), None
            ),
            done=request.query_params.get("done"),
            reason_message=reason_message,
            trail=trail,
            may_end=state_now in followup.FOLLOWED,
            may_edit=state_now != CareState.ENDED,
            may_reassign=coordinator and state_now == CareState.ACTIVE,
            # Those the service would take: active proactive-care doctors (full ones shown
            # greyed, with their count).
            doctors=[d for d in doctors if d.active and d.proactive],
            end_reasons=[r.value for r in EndReason],
            comorbidity_codes=COMORBIDITIES,
        )
    return templates.TemplateResponse(request, "care/patient.html", context, status_code=status)


@router.get("/care/patients/{patient_id}", response_class=HTMLResponse)
async def patient_page(request: Request, patient_id: Id, state: StateDep) -> Response:
    return await render(request, state, patient_id)


@router.post("/care/patients/{patient_id}/checkins", response_class=HTMLResponse)
async def record_checkin(
    request: Request,
    patient_id: Id,
    state: StateDep,
    refused: FormRefusals,
    csrf: FormText = "",
    spo2: FormText = "",
    respiratory_rate: FormText = "",
    pulse: FormText = "",
    temperature: FormText = "",
    systolic_bp: FormText = "",
    diastolic_bp: FormText = "",
    consciousness: FormText = "",
    on_oxygen: FormText = "",
    note: FormText = "",
    symptoms: Annotated[list[str] | None, Form()] = None,
    no_symptoms: FormText = "",
) -> Response:
    """A check-in the doctor took during a call: recorded by the same service as the API's,
    then the patient page with its result; mistakes show the form again, every one next to
    its field at once, with everything typed kept."""
    values = {
        "spo2": spo2,
        "respiratory_rate": respiratory_rate,
        "pulse": pulse,
        "temperature": temperature,
        "systolic_bp": systolic_bp,
        "diastolic_bp": diastolic_bp,
        "consciousness": consciousness,
        "note": note,
    }
    values = {k: without_nul(v).strip() for k, v in values.items()}
    ticked = [without_nul(s) for s in symptoms or ()]
    typed: dict[str, Any] = {
        **values,
        "symptoms": ticked,
        "no_symptoms": bool(no_symptoms),
        "on_oxygen": bool(on_oxygen),
    }
    if not csrf_matches(request, csrf):
        return await render(
            request, state, patient_id, typed=typed, errors={"form": EXPIRED}, status=400
        )
    numbers, errors = numbers_of(values)
    said, mistake = symptoms_of(ticked, bool(no_symptoms))
    if mistake is not None:
        errors["symptoms"] = mistake
    for name, message in refused.items():
        errors.setdefault(name if name in FORM_FIELDS else "form", message)
    if errors:
        return await render(request, state, patient_id, typed=typed, errors=errors, status=422)
    data = checkins.CheckInData(
        **numbers,
        consciousness=values["consciousness"] or None,
        symptoms=said,
        on_oxygen=bool(on_oxygen),
        note=values["note"][:2000],
    )
    try:
        async with state.unit_of_work() as session:
            actor = await signed_in(request, state, session)
            if actor is None:
                return RedirectResponse("/login", status_code=303)
            await checkins.record_by_doctor(session, actor=actor, patient_id=patient_id, data=data)
    except InvalidInput as exc:
        key = exc.field if exc.field in FORM_FIELDS else "form"
        return await render(
            request, state, patient_id, typed=typed, errors={key: exc.detail}, status=422
        )
    return RedirectResponse(f"/care/patients/{patient_id}?done=checkin#latest", status_code=303)
