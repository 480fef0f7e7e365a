"""JSON routes for cases: intake, lists, details, timeline, the state verbs, attachments."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.assist.choices import IntakeChoice, apply_choice, check_choice
from hotline.attachments import service as attachments
from hotline.auth.service import Actor
from hotline.calls.service import calls_of_case
from hotline.cases import (
    intake_keys,
    medical,
    notes,
    queries,
    service,
    timeline,
    versions,
)
from hotline.cases.access import get_case_for
from hotline.cases.actions import allowed_actions, unit_assignment
from hotline.cases.api.deps import ActorDep, StateDep, case_out
from hotline.cases.models import Case
from hotline.cases.schemas import (
    AssignmentOut,
    CaseCreated,
    CaseDetail,
    CaseIn,
    CaseOut,
    CasePage,
    CasePatch,
    EventOut,
    NoteIn,
    NoteOut,
    PossibleDuplicate,
)
from hotline.contacts.service import phones_of, read_contact
from hotline.db import utcnow
from hotline.duplicates.service import suggest_for_case
from hotline.metrics import count_intake
from hotline.types import Id, Int32
from hotline.web.deps import actor_from_request, get_state
from hotline.web.inputs import bad_values
from hotline.web.openapi import body_schema
from hotline.web.routes import DirectRoute

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])


async def create_case(request: Request) -> Response:
    """Record a case; with ?suggest_duplicates=true also list the open cases it likely repeats.

    Suggestions are opt-in: they cost a read and some scoring that bulk intake (channels,
    imports) does not need, and the form asks for them before saving anyway.

    Intake is the hot path of a surge, so this route reads its body and caller itself
    (pydantic parses the JSON bytes directly) and FastAPI solves nothing for it
    (web/routes.py); the checks and the error shapes are the same as the other routes'.
    """
    state = await get_state(request)
    actor = await actor_from_request(request, state)
    suggest_duplicates = _query_flag(request, "suggest_duplicates")
    raw = await request.body()
    try:
        body = CaseIn.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None
    # The app-wide check of bodies (web/inputs.py) skips this route, which parses its own;
    # JSON must escape a NUL, so a byte search keeps the parse off the common path.
    if b"\\u0000" in raw and (errors := bad_values(json.loads(raw), ("body",))):
        raise RequestValidationError(errors)
    data = service.NewCase(
        channel=body.channel,
        description=body.description,
        category=body.category,
        urgent=body.urgent,
        priority=body.priority,
        contact_name=body.contact.name if body.contact else "",
        contact_phone=body.contact.phone if body.contact else None,
        ward_code=body.ward_code,
        address=body.address,
        lat=body.lat,
        long=body.long,
        public=body.public,
        call_id=body.call_id,
    )
    choice = IntakeChoice(
        duplicate_of=body.duplicate_of, answer=body.answer, article_id=body.article_id
    )
    check_choice(choice)
    raw_key = request.headers.get(intake_keys.HEADER)
    key = intake_keys.check_key(raw_key) if raw_key is not None else None
    # The service takes the fast path when it can (PostgreSQL, nothing else to do in the
    # transaction), else says so and the report is opened in a unit of work. Duplicate
    # suggestions and an idempotency key (its row commits with the case) need the
    # transaction: retries are few, and key-less intake keeps the fast path.
    case = await service.open_case_autocommit(
        await state.intake_writer(),
        database=state.database,
        site=state.site,
        actor=actor,
        data=data,
        in_transaction=suggest_duplicates or key is not None or choice.given,
        wake=state.waker,
    )
    if case is not None:
        return _created(CaseCreated.of(case), data)
    replayed = None
    async with state.unit_of_work() as session:
        if key is not None:
            fingerprint = intake_keys.fingerprint(body.model_dump_json())
            replayed = await intake_keys.claim(
                session, actor=actor, key=key, fingerprint=fingerprint
            )
        if replayed is not None:
            new_case = replayed
        else:
            new_case = await service.open_case(session, actor=actor, data=data)
            if choice.given:
                await apply_choice(session, actor=actor, case=new_case, choice=choice)
            if key is not None:
                await intake_keys.attach(session, actor=actor, key=key, case=new_case)
        duplicate_of = None
        if new_case.duplicate_of_id is not None:
            original = await session.get(Case, new_case.duplicate_of_id)
            duplicate_of = original.code if original else None
        out = CaseCreated.of(new_case, duplicate_of)
        if suggest_duplicates:
            found = await suggest_for_case(session, case=new_case, actor=actor)
            out.possible_duplicates = [PossibleDuplicate.model_validate(s) for s in found]
    return _created(out, data, replayed=replayed is not None)


# Declared after the function, first among the routes: the route class is not one the
# decorators take.
router.add_api_route(
    "",
    create_case,
    methods=["POST"],
    status_code=201,
    response_model=CaseCreated,
    openapi_extra={
        **body_schema(CaseIn),
        "security": [{"OAuth2PasswordBearer": []}],
        "parameters": [
            {
                "name": intake_keys.HEADER,
                "in": "header",
                "required": False,
                "description": "Retries with the same key (per user) answer with the case "
                "the first request made (header Idempotent-Replayed: true), never a second one.",
                "schema": {"type": "string", "minLength": 1, "maxLength": 200},
            },
            {
                "name": "suggest_duplicates",
                "in": "query",
                "required": False,
                "schema": {"type": "boolean", "default": False},
            },
        ],
    },
    route_class_override=DirectRoute,
)


_FLAG = TypeAdapter(bool)


def _query_flag(request: Request, name: str) -> bool:
    """A boolean query parameter read as FastAPI reads one (true/false, 1/0, yes/no, on/off),
    with the same 422 naming it: declared in the signature, FastAPI's dependency solving
    for this one flag cost intake several per cent."""
    if not request.scope["query_string"]:  # most intakes: no query to parse
        return False
    raw = request.query_params.get(name)
    if raw is None:
        return False
    try:
        return _FLAG.validate_python(raw)
    except ValidationError as exc:
        errors = [{**e, "loc": ("query", name)} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None


def _created(out: CaseCreated, data: service.NewCase, *, replayed: bool = False) -> Response:
    out.suggested = list(data.suggested)
    # Serialised here, once: `out` is already a validated model, and intake is the hot path
    # (FastAPI would validate it again against response_model, which stays for OpenAPI).
    if not replayed:  # a retry answered with the case already made is not a new one
        count_intake(out.channel)
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return Response(
        out.model_dump_json(), status_code=201, media_type="application/json", headers=headers
    )


@router.get("", response_model=CasePage)
async def list_cases(
    actor: ActorDep,
    state: StateDep,
    status: Annotated[list[str] | None, Query()] = None,
    category: str | None = None,
    channel: str | None = None,
    unit: Int32 | None = None,
    ward: str | None = None,
    urgent: bool | None = None,
    overdue: bool | None = None,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    contact_id: Id | None = None,
    mine: bool = False,
    hour: Annotated[int | None, Query(ge=0, le=23)] = None,
    held: bool | None = None,
    forwarded: bool | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CasePage:
    filters = queries.CaseFilter(
        status=status,
        category=category,
        channel=channel,
        unit_id=unit,
        ward_code=ward,
        urgent=urgent,
        overdue=overdue,
        date_from=date_from,
        date_to=date_to,
        q=q,
        contact_id=contact_id,
        # ?mine=true: the cases the caller holds (taken and not yet passed on).
        assignee_id=(actor.user_id or -1) if mine else None,
        hour=hour,
        held=held,
        ever_forwarded=forwarded,
    )
    # One citizen's cases are a logged read of their personal data: a write.
    async with state.unit_of_work(read_only=contact_id is None) as session:
        page = await queries.list_cases(
            session, actor=actor, filters=filters, cursor=cursor, limit=limit
        )
        return CasePage(items=[CaseOut.of(c) for c in page.items], next_cursor=page.next_cursor)


async def _detail(session: AsyncSession, actor: Actor, stored: Case) -> CaseDetail:
    # Home care's urgent cases: the medical text and the home only to those in charge.
    case = await medical.shown_case(session, actor, stored)
    duplicate_of = None
    if case.duplicate_of_id:
        original = await session.get(Case, case.duplicate_of_id)
        duplicate_of = original.code if original else None
    out = CaseDetail(**CaseOut.of(case, duplicate_of).model_dump())
    if case.contact_id:
        contact = await read_contact(
            session, actor=actor, contact_id=case.contact_id, case_id=case.id, purpose="case_detail"
        )
        out.contact = {
            "id": contact.id,
            "name": contact.name,
            "phones": await phones_of(session, contact.id),
            "address": contact.address if case is stored else "",
            "ward_code": contact.ward_code,
        }
    now = utcnow()
    assignments = await queries.assignments_of(session, case.id)
    shown = medical.shown_assignments(actor, stored, assignments)
    out.assignments = [AssignmentOut.of(a, now) for a in shown]
    actions = allowed_actions(actor, case, unit_assignment(actor, assignments))
    out.actions = sorted(a.value for a in actions)
    out.version = await versions.version_of(session, case.id)
    out.duplicates = await queries.duplicates_of(session, case.id)
    out.calls = [
        {
            "id": c.id,
            "line": c.line,
            "started_at": c.started_at.isoformat(),
            "outcome": c.outcome.value if c.outcome else None,
            "talk_seconds": c.talk_seconds,
            "ended_by": c.ended_by,
            "release_cause": c.release_cause,
            "codec": c.codec,
            "trunk": c.trunk,
            "sip_call_id": c.sip_call_id,
        }
        for c in await calls_of_case(session, case_id=case.id)
    ]
    out.attachments = [
        {
            "id": a.id,
            "filename": a.filename,
            "media_type": a.media_type,
            "size": a.size,
            "sha256": a.sha256,
        }
        for a in await attachments.attachments_shown(session, actor, stored)
    ]
    return out


@router.get("/{code}", response_model=CaseDetail)
async def get_case(code: str, actor: ActorDep, state: StateDep) -> CaseDetail:
    async with state.unit_of_work() as session:
        case = await get_case_for(session, actor, code)
        return await _detail(session, actor, case)


@router.patch("/{code}", response_model=CaseOut)
async def patch_case(code: str, body: CasePatch, actor: ActorDep, state: StateDep) -> CaseOut:
    async with state.unit_of_work() as session:
        case = await get_case_for(session, actor, code)
        changes = body.model_dump(exclude_unset=True)
        await service.update_case(session, actor=actor, case=case, changes=changes)
        return await case_out(session, actor, case)


@router.get("/{code}/events", response_model=list[EventOut])
async def case_events(code: str, actor: ActorDep, state: StateDep) -> list[EventOut]:
    async with state.unit_of_work(read_only=True) as session:
        case = await get_case_for(session, actor, code)
        shown = await timeline.shown_events(session, actor, case)
        return [EventOut.of(e, data=data) for e, data in shown]


@router.post("/{code}/notes", response_model=NoteOut, status_code=201)
async def add_note(code: str, body: NoteIn, actor: ActorDep, state: StateDep) -> NoteOut:
    """An internal note (staff only) or a reply to the citizen; changes not the case's version."""
    async with state.unit_of_work() as session:
        note = await notes.add_note(
            session, actor=actor, code=code, text=body.text, visibility=body.visibility
        )
        return NoteOut.of(note)
