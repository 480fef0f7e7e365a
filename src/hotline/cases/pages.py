"""The case page (`/cases/{code}`) and the unit inbox (`/inbox`).

Thin routes: what a user may see and do comes from the case services (access.py,
actions.py, queries.py, workflow.py), the same ones the JSON API calls; the forms post to
`/cases/{code}/act/{action}`, which runs the workflow verb with the version the page showed
(versions.py), so an action on a case someone changed meanwhile is refused, not applied.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.attachments import service as attachments
from hotline.auth.permissions import Permission, allows
from hotline.auth.service import Actor, display_names, get_user
from hotline.calls import labels as call_labels
from hotline.calls.service import calls_of_case
from hotline.cases import medical, notes, queries, timeline, workflow
from hotline.cases.access import get_case_for
from hotline.cases.actions import allowed_actions, unit_assignment
from hotline.cases.assignment_state import is_overdue
from hotline.cases.codes import normalise_code
from hotline.cases.forward_choices import forward_choices, place_of
from hotline.cases.models import Case
from hotline.cases.transitions import CHANNEL_LABELS_VI, STATUS_LABELS_VI, Action
from hotline.cases.versions import version_in, versions_of
from hotline.channels import pages as channel_pages
from hotline.channels import threads
from hotline.contacts.service import phones_of, read_contact
from hotline.db import utcnow
from hotline.directory.service import category_names, list_units
from hotline.duplicates.merge import can_merge_into, merge_cases
from hotline.duplicates.service import suggest_for_case
from hotline.errors import DomainError, InvalidInput, NotFound
from hotline.knowledge.access import get_article_for
from hotline.knowledge.suggest import record_article_used, suggest_for_description
from hotline.messages import Message
from hotline.web.deps import get_state
from hotline.web.i18n import language_of
from hotline.web.inputs import FormRefusals, without_nul
from hotline.web.page import csrf_matches, csrf_token, nav_for, page_actor, templates_for
from hotline.web.state import AppState

templates = templates_for(__file__, "channels")


def _iso_local(value: str, tz: tzinfo) -> str:
    """A timestamp kept as ISO text in timeline data (a forwarding's deadline), local."""
    try:
        return datetime.fromisoformat(value).astimezone(tz).strftime("%d/%m/%Y %H:%M")
    except (TypeError, ValueError):
        return str(value)


templates.env.filters["iso_local"] = _iso_local
router = APIRouter(include_in_schema=False)
StateDep = Annotated[AppState, Depends(get_state)]
FormText = Annotated[str, Form()]

# Fields the case page shows a refusal next to; any other refusal (a stale version, a wrong
# status, an unknown article) goes on top of the page.
FORM_FIELDS = frozenset(
    {
        *("answer", "reason", "unit_id", "deadline_hours", "original_code", "category"),
        *("duplicates", "text", "visibility", "note"),
    }
)


def _base(request: Request, actor: Actor, user: Any, state: AppState) -> dict[str, Any]:
    return {
        "user": user,
        "csrf": csrf_token(request),
        "nav": nav_for(actor),
        "tz": state.site.timezone,
        "labels": STATUS_LABELS_VI,
        "channels": CHANNEL_LABELS_VI,
        "now": utcnow(),
    }


async def _case_context(
    session: AsyncSession, actor: Actor, case: Case, language: str
) -> dict[str, Any]:
    """Everything the case page shows, read through the services that log personal reads
    (names in `language`)."""
    stored = case
    # Home care's urgent cases: the medical text and the home only to those in charge.
    case = await medical.shown_case(session, actor, stored)
    contact, phones = None, []
    if case.contact_id:
        contact = await read_contact(
            session, actor=actor, contact_id=case.contact_id, case_id=case.id, purpose="case_page"
        )
        phones = await phones_of(session, contact.id)
    assignments = await queries.assignments_of(session, case.id)
    held = unit_assignment(actor, assignments)
    actions = allowed_actions(actor, case, held)
    note_kinds = notes.note_visibilities(actor, held)
    events = await timeline.events_of(session, case.id)
    units = {u.id: u for u in await list_units(session)}
    categories = await category_names(session, language=language)
    articles = []
    # Whoever may resolve or reply gets the answers, as GET /api/v1/cases/{code}/articles
    # gives them.
    if Action.RESOLVE in actions or notes.Visibility.REPLY in note_kinds:
        articles = await suggest_for_description(
            session, description=case.description, category_code=case.category_code
        )
    can_merge = can_merge_into(actor, case)
    duplicates = []
    if Action.DUPLICATE in actions or can_merge:
        duplicates = await suggest_for_case(session, case=case, limit=5, actor=actor)
    original = await session.get(Case, case.duplicate_of_id) if case.duplicate_of_id else None
    return {
        "conversations": await _conversations(session, actor, case),
        "case": case,
        "contact": contact,
        "medical_hidden": case is not stored,
        "phones": phones,
        "assignments": medical.shown_assignments(actor, stored, assignments),
        "overdue": {a.id for a in assignments if is_overdue(a, utcnow())},
        "actions": {a.value for a in actions},
        "note_kinds": {k.value for k in note_kinds},
        "version": version_in(events),
        # The case's full read is logged already (medical.shown_case).
        **await _timeline_context(session, actor, stored, events, read_logged=True),
        "units": units,
        "forward": await forward_choices(session, case, list(units.values()))
        if Action.FORWARD in actions
        else None,
        "place": await place_of(session, case.ward_code),
        "categories": categories,
        "articles": articles,
        "suggested_duplicates": duplicates,
        "can_merge": can_merge,
        "duplicate_codes": await queries.duplicates_of(session, case.id),
        "original": original.code if original else None,
        "calls": await calls_of_case(session, case_id=case.id),
        "call_labels": call_labels,
        "attachments": await attachments.attachments_shown(session, actor, stored),
        "image_types": attachments.IMAGE_TYPES,
    }


async def _conversations(session: AsyncSession, actor: Actor, case: Case) -> list[dict[str, Any]]:
    """The case's conversations with their threads and reply boxes (hotline staff only:
    to units a citizen's messages are not theirs to read)."""
    if not allows(actor, Permission.READ_CONTACTS):
        return []
    rows = await threads.inbox_rows(
        session, actor=actor, status=None, case_code=case.code, audience=None
    )
    return [
        await channel_pages.thread_context(session, actor, row.conversation.id, suggestions=False)
        for row in rows
    ]


async def _timeline_context(
    session: AsyncSession, actor: Actor, case: Case, events: list[Any], *, read_logged: bool
) -> dict[str, Any]:
    names = await display_names(session, {e.actor_id for e in events if e.actor_id})
    # The page names an edit without its old and new values; its notes, reasons and
    # answers are read as the case's medical text is (cases/medical.py).
    shown = await timeline.shown_events(
        session, actor, case, events, values_shown=False, read_logged=read_logged
    )
    return {"events": shown, "names": names}


async def _signed_in(request: Request, state: AppState, session: AsyncSession) -> Actor | None:
    actor = await page_actor(request, state, session)
    return actor if actor is not None and actor.user_id is not None else None


@router.get("/cases/{code}", response_class=HTMLResponse)
async def case_page(request: Request, code: str, state: StateDep) -> Response:
    return await _render_case(request, state, code)


async def _render_case(
    request: Request,
    state: AppState,
    code: str,
    *,
    error: DomainError | None = None,
    action: str | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    async with state.unit_of_work() as session:
        actor = await _signed_in(request, state, session)
        if actor is None:
            return RedirectResponse("/login", status_code=303)
        assert actor.user_id is not None
        base = _base(request, actor, await get_user(session, actor.user_id), state)
        try:
            case = await get_case_for(session, actor, code)
        except NotFound:
            # Someone else's case and a code that does not exist answer alike.
            return templates.TemplateResponse(
                request, "cases/not_found.html", {**base, "code": code}, status_code=404
            )
        context = {
            **base,
            **await _case_context(session, actor, case, language_of(request)),
            **_error_context(error, action, typed),
            "done": request.query_params.get("done"),
        }
    return templates.TemplateResponse(
        request, "cases/case.html", context, status_code=error.status if error else 200
    )


def _error_context(
    error: DomainError | None, action: str | None, typed: dict[str, str] | None
) -> dict[str, Any]:
    """An action's refusal: a stale view or a wrong state goes on top of the page; a bad
    field next to that field, in the form of that action, with what was typed kept."""
    if error is None:
        return {"stale": None, "failed": None, "errors": {}, "typed": {}}
    if error.field in FORM_FIELDS:
        return {
            "stale": None,
            "failed": action,
            "errors": {error.field: error.detail},
            "typed": typed or {},
        }
    return {
        "stale": error.detail,
        "failed": action,
        "errors": {},
        "typed": typed or {},
    }


@router.get("/cases/{code}/timeline", response_class=HTMLResponse)
async def case_timeline(request: Request, code: str, state: StateDep) -> Response:
    """The timeline alone, for the live refresh (htmx swaps it in)."""
    async with state.unit_of_work(read_only=True) as session:
        actor = await _signed_in(request, state, session)
        if actor is None:
            return Response(status_code=401)
        case = await get_case_for(session, actor, code)
        events = await timeline.events_of(session, case.id)
        context = {
            "tz": state.site.timezone,
            "labels": STATUS_LABELS_VI,
            "units": {u.id: u for u in await list_units(session)},
            "version": version_in(events),
            **await _timeline_context(session, actor, case, events, read_logged=False),
        }
    return templates.TemplateResponse(request, "cases/timeline.html", context)


async def _perform(
    session: AsyncSession, actor: Actor, case: Case, action: Action, form: dict[str, str]
) -> None:
    """Run one workflow verb, as the API route of the same name does."""
    raw_version = form.get("expected_version", "").strip()
    if not raw_version.isdigit():
        raise InvalidInput("Trang đã cũ, hãy tải lại", field="expected_version")
    version = int(raw_version)
    common: dict[str, Any] = {"actor": actor, "case": case, "expected_version": version}
    if action == Action.TAKE:
        await workflow.take_case(session, **common)
    elif action == Action.ACCEPT:
        await workflow.accept_case(session, **common)
    elif action == Action.RETURN:
        await workflow.return_case(session, reason=form.get("reason"), **common)
    elif action == Action.REJECT:
        await workflow.reject_case(session, reason=form.get("reason"), **common)
    elif action == Action.REOPEN:
        await workflow.reopen_case(session, reason=form.get("reason"), **common)
    elif action == Action.CLOSE:
        await workflow.close_case(session, note=form.get("note", ""), **common)
    elif action == Action.DUPLICATE:
        await workflow.mark_duplicate(
            session, original_code=form.get("original_code", "").strip(), **common
        )
    elif action == Action.FORWARD:
        await _forward(session, form, common)
    elif action == Action.RESOLVE:
        await workflow.resolve_case(session, answer=form.get("answer"), **common)
        article_id = form.get("article_id", "").strip()
        if article_id.isdigit():
            # The answer came from the knowledge base: counted like the API's "used".
            article = await get_article_for(session, actor, int(article_id))
            await record_article_used(session, actor=actor, case=case, article=article)


async def _forward(session: AsyncSession, form: dict[str, str], common: dict[str, Any]) -> None:
    unit_ids = [int(v) for v in form.get("unit_ids", "").split(",") if v.strip().isdigit()]
    if not unit_ids:
        raise InvalidInput("Chọn ít nhất một đơn vị", field="unit_id")
    raw_hours = form.get("deadline_hours", "").strip()
    if raw_hours and not raw_hours.isdigit():
        raise InvalidInput("Thời hạn là số giờ", field="deadline_hours")
    hours = int(raw_hours) if raw_hours else None
    for n, unit_id in enumerate(unit_ids):
        # The page's version holds for the first forwarding; the next ones are this same
        # action, so they must not be refused for the entries the first one wrote.
        args = common if n == 0 else {**common, "expected_version": None}
        await workflow.forward_case(
            session, unit_id=unit_id, note=form.get("note", ""), deadline_hours=hours, **args
        )


def _refused(refused: dict[str, Message]) -> InvalidInput:
    """A form field holding a NUL (web/inputs.py), refused next to that field."""
    name, message = next(iter(refused.items()))
    return InvalidInput(message, field=name)


@router.post("/cases/{code}/act/{action}", response_class=HTMLResponse)
async def act(
    request: Request,
    code: str,
    action: str,
    state: StateDep,
    refused: FormRefusals,
    csrf: FormText = "",
    expected_version: FormText = "",
    reason: FormText = "",
    answer: FormText = "",
    note: FormText = "",
    original_code: FormText = "",
    deadline_hours: FormText = "",
    article_id: FormText = "",
    next: FormText = "",
    unit_id: Annotated[list[str] | None, Form()] = None,
) -> Response:
    form = {
        "csrf": csrf,
        "expected_version": expected_version,
        "reason": reason,
        "answer": answer,
        "note": note,
        "original_code": original_code,
        "deadline_hours": deadline_hours,
        "article_id": article_id,
        "next": next,
        # Several units: one checkbox each.
        "unit_ids": ",".join(unit_id or []),
    }
    form = {name: without_nul(value) for name, value in form.items()}
    back = "/inbox" if form.get("next") == "inbox" else None
    try:
        verb = Action(action)
    except ValueError:
        raise NotFound("Không có thao tác này", field="action") from None
    if not csrf_matches(request, csrf):
        error: DomainError = InvalidInput(
            "Phiên làm việc đã hết hạn, vui lòng thử lại.", field="expected_version"
        )
    elif refused:
        error = _refused(refused)
    else:
        try:
            async with state.unit_of_work() as session:
                actor = await _signed_in(request, state, session)
                if actor is None:
                    return RedirectResponse("/login", status_code=303)
                case = await get_case_for(session, actor, code)
                await _perform(session, actor, case, verb, form)
                code = case.code
            target = back or f"/cases/{code}"
            return RedirectResponse(f"{target}?done={verb.value}", status_code=303)
        except NotFound as exc:
            if exc.field == "code":
                raise
            error = exc
        except DomainError as exc:
            error = exc
    if back:
        return await _render_inbox(
            request, state, error=error, code=code, action=verb.value, typed=form
        )
    return await _render_case(request, state, code, error=error, action=verb.value, typed=form)


@router.post("/cases/{code}/merge", response_class=HTMLResponse)
async def merge(
    request: Request,
    code: str,
    state: StateDep,
    csrf: FormText = "",
    expected_version: FormText = "",
    duplicates: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Merge the suggested duplicates the user ticked into this case (duplicates/merge.py,
    as POST /api/v1/duplicates/merge does)."""
    error: DomainError
    if not csrf_matches(request, csrf):
        error = InvalidInput("Phiên làm việc đã hết hạn, vui lòng thử lại.", field="csrf")
    elif not expected_version.isdigit():
        error = InvalidInput("Trang đã cũ, hãy tải lại", field="expected_version")
    else:
        try:
            async with state.unit_of_work() as session:
                actor = await _signed_in(request, state, session)
                if actor is None:
                    return RedirectResponse("/login", status_code=303)
                result = await merge_cases(
                    session,
                    actor=actor,
                    primary_code=code,
                    duplicate_codes=duplicates or [],
                    expected_version=int(expected_version),
                )
                code = result.primary.code
            return RedirectResponse(f"/cases/{code}?done=merge", status_code=303)
        except NotFound as exc:
            if exc.field == "primary":
                raise
            error = exc
        except DomainError as exc:
            error = exc
    return await _render_case(request, state, code, error=error, action="merge")


@router.post("/cases/{code}/notes", response_class=HTMLResponse)
async def add_note(
    request: Request,
    code: str,
    state: StateDep,
    refused: FormRefusals,
    csrf: FormText = "",
    text: FormText = "",
    visibility: FormText = "internal",
    article_id: FormText = "",
) -> Response:
    """An internal note or a reply to the citizen (cases/notes.py, as the API's notes
    route); a reply made from a knowledge-base answer counts its use, as resolving does."""
    typed = {"text": without_nul(text), "article_id": without_nul(article_id)}
    error: DomainError
    if not csrf_matches(request, csrf):
        error = InvalidInput("Phiên làm việc đã hết hạn, vui lòng thử lại.", field="csrf")
    elif refused:
        error = _refused(refused)
    else:
        try:
            async with state.unit_of_work() as session:
                actor = await _signed_in(request, state, session)
                if actor is None:
                    return RedirectResponse("/login", status_code=303)
                note = await notes.add_note(
                    session, actor=actor, code=code, text=text, visibility=visibility
                )
                if note.visibility == notes.Visibility.REPLY and article_id.strip().isdigit():
                    case = await get_case_for(session, actor, code)
                    article = await get_article_for(session, actor, int(article_id))
                    await record_article_used(session, actor=actor, case=case, article=article)
            done = "reply" if note.visibility == notes.Visibility.REPLY else "note"
            return RedirectResponse(f"/cases/{note.case}?done={done}", status_code=303)
        except NotFound as exc:
            if exc.field == "code":
                raise
            error = exc
        except DomainError as exc:
            error = exc
    return await _render_case(request, state, code, error=error, action="note", typed=typed)


@router.get("/inbox", response_class=HTMLResponse)
async def inbox(request: Request, state: StateDep) -> Response:
    return await _render_inbox(request, state)


async def _render_inbox(
    request: Request,
    state: AppState,
    *,
    error: DomainError | None = None,
    code: str | None = None,
    action: str | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    async with state.unit_of_work() as session:
        actor = await _signed_in(request, state, session)
        if actor is None:
            return RedirectResponse("/login", status_code=303)
        assert actor.user_id is not None
        box = await queries.unit_inbox(session, actor=actor)
        versions = await versions_of(session, (r.case.id for r in box.rows))
        categories = await category_names(session, language=language_of(request))
        context = {
            **_base(request, actor, await get_user(session, actor.user_id), state),
            "rows": [
                (r, versions[r.case.id], allowed_actions(actor, r.case, r.assignment))
                for r in box.rows
            ],
            "counts": box.counts,
            "categories": categories,
            "error": error,
            "error_code": normalise_code(code) if code else None,
            "failed": action,
            "typed": typed or {},
            "done": request.query_params.get("done"),
        }
    return templates.TemplateResponse(
        request, "cases/inbox.html", context, status_code=error.status if error else 200
    )
