"""The public volunteer sign-up form on the citizen portal (`/tinh-nguyen`): no sign-in, the
session's form token, throttled per address like `POST /api/v1/public/volunteers`, and sent
to the same service (volunteers.sign_up). A mistake shows the form again with the message
next to its field and everything typed kept. When a code was texted to the number, the
thank-you page offers the form to type it back (confirming.confirm_phone, as `POST
/api/v1/public/volunteers/confirm`); neither page says whether the number had offered
before."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hotline.errors import DomainError
from hotline.messages import msg
from hotline.staffing import confirming, volunteers
from hotline.staffing.confirming import CodeSent
from hotline.web.deps import client_address, get_state
from hotline.web.inputs import FormRefusals, without_nul
from hotline.web.page import csrf_matches, csrf_token, templates_for
from hotline.web.ratelimit import TooManyRequests
from hotline.web.state import AppState

templates = templates_for(__file__, "portal")
router = APIRouter(include_in_schema=False)
StateDep = Annotated[AppState, Depends(get_state)]
FormText = Annotated[str, Form()]

EXPIRED = msg("Phiên làm việc đã hết hạn, vui lòng bấm gửi lại (nội dung vẫn được giữ).")
# The API's limits (staffing/api/volunteers.py VolunteerIn), said next to the field.
LIMITS = {"full_name": 120, "phone": 40, "note": 500}
MAX_LANGUAGES = 10
# The service's field names as the form's.
FIELD_OF = {
    "full_name": "full_name",
    "phone": "phone",
    "skills.languages": "languages",
    "skills.channels": "channels",
    "skills.medical": "medical",
    "note": "note",
}
CHANNELS = ("phone", "zalo", "facebook", "viber", "web", "email", "app")


def _page(request: Request, name: str, context: dict[str, Any], *, status: int = 200) -> Response:
    return templates.TemplateResponse(
        request,
        f"staffing/{name}.html",
        {"csrf": csrf_token(request), "channels": CHANNELS, "active": "volunteer"} | context,
        status_code=status,
    )


async def _throttled(request: Request, state: AppState) -> TooManyRequests | None:
    try:
        await state.public.hit(client_address(request))
    except TooManyRequests as exc:
        return exc
    return None


@router.get("/tinh-nguyen", response_class=HTMLResponse)
async def volunteer_form(request: Request, state: StateDep) -> Response:
    if (refusal := await _throttled(request, state)) is not None:
        return _page(
            request, "volunteer", {"values": {}, "errors": {"form": refusal.detail}}, status=429
        )
    return _page(request, "volunteer", {"values": {"channels": ["phone"]}, "errors": {}})


def _languages(text: str) -> list[str]:
    return [part for part in re.split(r"[\s,;]+", text) if part]


@router.post("/tinh-nguyen", response_class=HTMLResponse)
async def sign_up(
    request: Request,
    state: StateDep,
    refused: FormRefusals,
    full_name: FormText = "",
    phone: FormText = "",
    medical: FormText = "",
    languages: FormText = "",
    channels: Annotated[list[str] | None, Form()] = None,
    note: FormText = "",
    reserve: FormText = "",
    csrf: FormText = "",
) -> Response:
    """Offer to volunteer; a supervisor approves the offer on the staffing page."""
    values: dict[str, Any] = {
        "full_name": without_nul(full_name).strip(),
        "phone": without_nul(phone).strip(),
        "medical": bool(medical),
        "languages": without_nul(languages).strip(),
        "channels": [without_nul(c) for c in channels or ()],
        "note": without_nul(note).strip(),
        "reserve": bool(reserve),
    }
    errors: dict[str, Any] = {}
    status = 422
    if (refusal := await _throttled(request, state)) is not None:
        errors["form"], status = refusal.detail, refusal.status
    elif not csrf_matches(request, csrf):
        errors["form"], status = EXPIRED, 400
    elif refused:
        errors = {
            name if name in LIMITS or name == "languages" else "form": message
            for name, message in refused.items()
        }
    else:
        errors = _too_long(values)
    if not errors:
        skills: dict[str, Any] = {"medical": values["medical"]}
        if picked := _languages(values["languages"]):
            skills["languages"] = picked
        if values["channels"]:
            skills["channels"] = values["channels"]
        try:
            async with state.unit_of_work() as session:
                offer = await volunteers.sign_up(
                    session,
                    full_name=values["full_name"],
                    phone=values["phone"],
                    skills=skills,
                    note=values["note"],
                    reserve=values["reserve"],
                )
        except DomainError as exc:
            errors[FIELD_OF.get(exc.field or "", "form")] = exc.detail
            status = exc.status
        else:
            # Only whether a code went out is carried: the page shows nothing of the offer.
            mark = {CodeSent.SENT: "?ma=1", CodeSent.LIMIT: "?ma=het"}.get(offer.code, "")
            sent = "/tinh-nguyen/da-gui" + mark
            return RedirectResponse(sent, status_code=303)
    return _page(request, "volunteer", {"values": values, "errors": errors}, status=status)


def _too_long(values: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, Any] = {
        name: msg("Chuỗi dài tối đa {max_length} ký tự", max_length=limit)
        for name, limit in LIMITS.items()
        if len(values[name]) > limit
    }
    if len(_languages(values["languages"])) > MAX_LANGUAGES:
        errors["languages"] = msg("Tối đa {n} ngôn ngữ", n=MAX_LANGUAGES)
    return errors


@router.get("/tinh-nguyen/da-gui", response_class=HTMLResponse)
async def signed_up(request: Request) -> Response:
    """Thanks, and what happens next (the offer itself is not shown back); with the code
    form when a code was texted."""
    code_form = request.query_params.get("ma") == "1"
    context = {"code_form": code_form, "values": {}, "errors": {}}
    if request.query_params.get("ma") == "het":
        context["code_limit"] = confirming.CODE_LIMIT
    return _page(request, "volunteer_sent", context)


@router.post("/tinh-nguyen/xac-nhan", response_class=HTMLResponse)
async def confirm(
    request: Request,
    state: StateDep,
    refused: FormRefusals,
    phone: FormText = "",
    code: FormText = "",
    csrf: FormText = "",
) -> Response:
    """The number's holder types back the code texted to it. A wrong code is counted (its
    transaction commits) and then refused next to the code field; the answer is the same
    for a number that never offered."""
    values = {"phone": without_nul(phone).strip()[:40], "code": without_nul(code).strip()[:12]}
    errors: dict[str, Any] = {}
    status = 422
    if (refusal := await _throttled(request, state)) is not None:
        errors["form"], status = refusal.detail, refusal.status
    elif not csrf_matches(request, csrf):
        errors["form"], status = EXPIRED, 400
    elif refused:
        errors["form"] = next(iter(refused.values()))
    else:
        try:
            async with state.unit_of_work() as session:
                found = await confirming.confirm_phone(
                    session, phone=values["phone"], code=values["code"]
                )
        except DomainError as exc:
            errors[exc.field if exc.field in ("phone", "code") else "form"] = exc.detail
            status = exc.status
        else:
            if found is not None:
                return RedirectResponse("/tinh-nguyen/da-xac-nhan", status_code=303)
            errors["code"] = confirming.WRONG_CODE
    values["code"] = ""  # a code is not shown back
    context = {"code_form": True, "values": values, "errors": errors}
    return _page(request, "volunteer_sent", context, status=status)


@router.get("/tinh-nguyen/da-xac-nhan", response_class=HTMLResponse)
async def confirmed(request: Request) -> Response:
    """The number is confirmed; a supervisor will look at the offer."""
    return _page(request, "volunteer_sent", {"confirmed": True, "values": {}, "errors": {}})
