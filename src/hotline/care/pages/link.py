"""The patient's or carer's check-in form, reached by the signed link the doctor gives them
(`/cham-soc/{token}`): no sign-in, the portal's form token and per-address limit, and no
name, number or address on the page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from hotline.care.checkins import CheckInData, record_by_link
from hotline.care.links import patient_of_token
from hotline.care.pages.forms import EXPIRED, FIELD_NAMES, FIELDS, numbers_of, symptoms_of
from hotline.errors import DomainError, InvalidInput
from hotline.web.deps import client_address, get_state
from hotline.web.errors import refusal_page
from hotline.web.page import csrf_matches, csrf_token, templates_for
from hotline.web.ratelimit import TooManyRequests
from hotline.web.state import AppState

templates = templates_for(__file__)
router = APIRouter(include_in_schema=False)
StateDep = Annotated[AppState, Depends(get_state)]
# The form's fields in order: the first with a mistake takes the focus.
ORDER = (*(name for name, *_ in FIELDS), "consciousness", "symptoms")


def _page(
    request: Request,
    token: str,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    sent: bool = False,
    alert: bool = False,
    carried: bool = False,
    status: int = 200,
) -> Response:
    return templates.TemplateResponse(
        request,
        "care/checkin.html",
        {
            "csrf": csrf_token(request),
            "action": f"/cham-soc/{token}",
            "fields": [(name, label, unit) for name, label, unit, _kind in FIELDS],
            "values": values or {},
            "errors": errors or {},
            "first_error": next((n for n in ORDER if n in (errors or {})), None),
            "sent": sent,
            "alert": alert,
            "carried": carried,
        },
        status_code=status,
    )


async def _guard(request: Request, state: AppState, token: str) -> Response | None:
    """A refusal page when over the per-address limit or the link is not valid."""
    try:
        await state.public.hit(client_address(request))
        async with state.unit_of_work(read_only=True) as session:
            await patient_of_token(session, token)
    except (TooManyRequests, DomainError) as exc:
        return refusal_page(request, exc.status, exc.detail)
    return None


@router.get("/cham-soc/{token}", response_class=HTMLResponse)
async def checkin_form(request: Request, token: str, state: StateDep) -> Response:
    refused = await _guard(request, state, token)
    return refused or _page(request, token)


@router.post("/cham-soc/{token}", response_class=HTMLResponse)
async def send_checkin(
    request: Request,
    token: str,
    state: StateDep,
    csrf: Annotated[str, Form()] = "",
    # The measures have no length limit here: a refusal page would lose what was typed;
    # numbers_of names anything that is not a number next to its field.
    spo2: Annotated[str, Form()] = "",
    respiratory_rate: Annotated[str, Form()] = "",
    pulse: Annotated[str, Form()] = "",
    temperature: Annotated[str, Form()] = "",
    systolic_bp: Annotated[str, Form()] = "",
    diastolic_bp: Annotated[str, Form()] = "",
    consciousness: Annotated[str, Form(max_length=20)] = "",
    symptoms: Annotated[list[str] | None, Form()] = None,
    no_symptoms: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    refused = await _guard(request, state, token)
    if refused is not None:
        return refused
    values = {
        "spo2": spo2,
        "respiratory_rate": respiratory_rate,
        "pulse": pulse,
        "temperature": temperature,
        "systolic_bp": systolic_bp,
        "diastolic_bp": diastolic_bp,
        "consciousness": consciousness,
    }
    values = {k: v.strip() for k, v in values.items()}
    ticked = [s.strip() for s in symptoms or ()]
    # Every answer is shown again with a mistake: the measures, consciousness, symptoms.
    shown: dict[str, Any] = {**values, "symptoms": ticked, "no_symptoms": bool(no_symptoms)}
    if not csrf_matches(request, csrf):
        return _page(request, token, values=shown, errors={"form": EXPIRED}, status=400)
    numbers, errors = numbers_of(values)
    said, mistake = symptoms_of(ticked, bool(no_symptoms))
    if mistake is not None:
        errors["symptoms"] = mistake
    if errors:
        return _page(request, token, values=shown, errors=errors, status=422)
    data = CheckInData(
        **numbers,
        consciousness=values.get("consciousness") or None,
        symptoms=said,
    )
    try:
        async with state.unit_of_work() as session:
            patient = await patient_of_token(session, token)
            done = await record_by_link(session, patient=patient, data=data)
    except InvalidInput as exc:
        field = exc.field if exc.field in FIELD_NAMES | {"consciousness", "symptoms"} else "form"
        return _page(request, token, values=shown, errors={field: exc.detail}, status=422)
    # Not asked: the page says the earlier symptoms still count (not which: the link's page
    # shows no health data of the patient beyond whether to call 115).
    carried = bool(done.checkin.result.get("symptoms_carried"))
    return _page(request, token, sent=True, alert=bool(done.risk.warning_signs), carried=carried)
