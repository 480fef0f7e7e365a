"""The patient page's follow-up forms (docs/care.md): end the follow-up with a reason, edit
the patient's contact, address and comorbidities, move them to another doctor. Each calls
the API's service function (care/followup.py), which checks who may; the page shows a form
only to those the service would take it from, and shows the service's refusal next to the
field it names (or on top of the form), everything typed kept. Success: back to the page
with a notice."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hotline.care import followup
from hotline.care.pages.doctor import signed_in
from hotline.care.pages.forms import EXPIRED
from hotline.care.pages.patient import render
from hotline.errors import DomainError, NotFound
from hotline.messages import msg
from hotline.types import Id
from hotline.web.deps import get_state
from hotline.web.inputs import FormRefusals, without_nul
from hotline.web.page import csrf_matches
from hotline.web.state import AppState

router = APIRouter(include_in_schema=False)
StateDep = Annotated[AppState, Depends(get_state)]
FormText = Annotated[str, Form()]

END_FIELDS = {"reason": "end_reason", "note": "end_note"}
EDIT_FIELDS = {
    "name": "edit_name",
    "phone": "edit_phone",
    "address": "edit_address",
    "ward_code": "edit_ward_code",
    "comorbidities": "edit_comorbidities",
}
REASSIGN_FIELDS = {"doctor_id": "reassign_doctor_id"}
CHOOSE_REASON = msg("Chọn lý do kết thúc theo dõi")
CHOOSE_DOCTOR = msg("Chọn bác sĩ")


def _refusal(exc: DomainError, fields: dict[str, str], form: str) -> dict[str, Any]:
    """The service's refusal, next to the field it names, else on top of its form."""
    return {fields.get(exc.field or "", form): exc.detail}


def _refused_fields(refused: dict[str, Any], fields: dict[str, str], form: str) -> dict[str, Any]:
    return {fields.get(name, form): message for name, message in refused.items()}


async def _apply(
    request: Request,
    state: AppState,
    patient_id: int,
    action: Any,
    *,
    typed: dict[str, Any],
    fields: dict[str, str],
    form: str,
    done: str,
) -> Response:
    """Run one service call in its own transaction; the page again with the refusal, or a
    redirect to the page with the notice `done`."""
    try:
        async with state.unit_of_work() as session:
            actor = await signed_in(request, state, session)
            if actor is None:
                return RedirectResponse("/login", status_code=303)
            await action(session, actor)
    except NotFound:
        raise
    except DomainError as exc:
        return await render(
            request,
            state,
            patient_id,
            typed=typed,
            errors=_refusal(exc, fields, form),
            status=exc.status,
        )
    return RedirectResponse(f"/care/patients/{patient_id}?done={done}#done", status_code=303)


@router.post("/care/patients/{patient_id}/end", response_class=HTMLResponse)
async def end_follow_up(
    request: Request,
    patient_id: Id,
    state: StateDep,
    refused: FormRefusals,
    csrf: FormText = "",
    reason: FormText = "",
    note: FormText = "",
) -> Response:
    """End the patient's follow-up with a reason (care/followup.end_follow_up)."""
    typed = {"end_reason": without_nul(reason), "end_note": without_nul(note)}
    errors: dict[str, Any] = _refused_fields(refused, END_FIELDS, "end_form")
    if not csrf_matches(request, csrf):
        errors = {"end_form": EXPIRED}
    elif not typed["end_reason"]:
        errors.setdefault("end_reason", CHOOSE_REASON)
    if errors:
        status = 400 if "end_form" in errors and not refused else 422
        return await render(request, state, patient_id, typed=typed, errors=errors, status=status)

    async def act(session: Any, actor: Any) -> None:
        await followup.end_follow_up(
            session,
            actor=actor,
            patient_id=patient_id,
            reason=typed["end_reason"],
            note=typed["end_note"],
        )

    return await _apply(
        request, state, patient_id, act, typed=typed, fields=END_FIELDS, form="end_form",
        done="ended",
    )  # fmt: skip


@router.post("/care/patients/{patient_id}/edit", response_class=HTMLResponse)
async def edit_patient(
    request: Request,
    patient_id: Id,
    state: StateDep,
    refused: FormRefusals,
    csrf: FormText = "",
    name: FormText = "",
    phone: FormText = "",
    address: FormText = "",
    ward_code: FormText = "",
    comorbidities_stable: FormText = "",
    comorbidities: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Change the patient's name, add a phone number, change the address, ward or
    comorbidities (care/followup.edit_patient); the service puts the change on the trail."""
    ticked = tuple(without_nul(c) for c in comorbidities or ())
    typed: dict[str, Any] = {
        "edit_name": without_nul(name).strip(),
        "edit_phone": without_nul(phone).strip(),
        "edit_address": without_nul(address).strip(),
        "edit_ward_code": without_nul(ward_code).strip(),
        "edit_comorbidities": list(ticked),
        "edit_comorbidities_stable": bool(comorbidities_stable),
        "edit_shown": True,
    }
    errors: dict[str, Any] = _refused_fields(refused, EDIT_FIELDS, "edit_form")
    if not csrf_matches(request, csrf):
        errors = {"edit_form": EXPIRED}
    if errors:
        status = 400 if "edit_form" in errors and not refused else 422
        return await render(request, state, patient_id, typed=typed, errors=errors, status=status)
    data = followup.PatientEdit(
        name=typed["edit_name"] or None,
        phone=typed["edit_phone"] or None,
        address=typed["edit_address"][:300],
        # An emptied ward is left as it was: the form cannot take a patient out of a ward.
        ward_code=typed["edit_ward_code"] or None,
        comorbidities=ticked,
        comorbidities_stable=typed["edit_comorbidities_stable"],
    )

    async def act(session: Any, actor: Any) -> None:
        await followup.edit_patient(session, actor=actor, patient_id=patient_id, data=data)

    return await _apply(
        request, state, patient_id, act, typed=typed, fields=EDIT_FIELDS, form="edit_form",
        done="edited",
    )  # fmt: skip


@router.post("/care/patients/{patient_id}/reassign", response_class=HTMLResponse)
async def reassign(
    request: Request,
    patient_id: Id,
    state: StateDep,
    refused: FormRefusals,
    csrf: FormText = "",
    doctor_id: FormText = "",
) -> Response:
    """Move the patient to another doctor (care coordinators; care/followup.reassign)."""
    chosen = without_nul(doctor_id).strip()
    typed = {"reassign_doctor_id": chosen}
    errors: dict[str, Any] = _refused_fields(refused, REASSIGN_FIELDS, "reassign_form")
    if not csrf_matches(request, csrf):
        errors = {"reassign_form": EXPIRED}
    elif not (chosen.isascii() and chosen.isdigit() and len(chosen) < 19):
        errors.setdefault("reassign_doctor_id", CHOOSE_DOCTOR)
    if errors:
        status = 400 if "reassign_form" in errors and not refused else 422
        return await render(request, state, patient_id, typed=typed, errors=errors, status=status)

    async def act(session: Any, actor: Any) -> None:
        await followup.reassign(session, actor=actor, patient_id=patient_id, doctor_id=int(chosen))

    return await _apply(
        request, state, patient_id, act, typed=typed, fields=REASSIGN_FIELDS,
        form="reassign_form", done="reassigned",
    )  # fmt: skip
