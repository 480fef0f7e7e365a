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

from hotline.auth.service import Actor, get_user
from hotline.cases import queries, timeline, workflow
from hotline.cases.access import get_case_for
from hotline.cases.actions import allowed_actions
from hotline.cases.codes import normalise_code
from hotline.cases.models import Case
from hotline.cases.pages.context import case_context, timeline_context
from hotline.cases.transitions import CHANNEL_LABELS_VI, STATUS_LABELS_VI, Action
from hotline.cases.versions import version_in, versions_of
from hotline.db import utcnow
from hotline.directory.service import category_names, list_units
from hotline.errors import DomainError, InvalidInput, NotFound
from hotline.knowledge.access import get_article_for
from hotline.knowledge.suggest import record_article_used
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


async def signed_in(request: Request, state: AppState, session: AsyncSession) -> Actor | None:
    actor = await page_actor(request, state, session)
    return actor if actor is not None and actor.user_id is not None else None


@router.get("/cases/{code}", response_class=HTMLResponse)
async def case_page(request: Request, code: str, state: StateDep) -> Response:
    return await render_case(request, state, code)


async def render_case(
    request: Request,
    state: AppState,
    code: str,
    *,
    error: DomainError | None = None,
    action: str | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    async with state.unit_of_work() as session:
        actor = await signed_in(request, state, session)
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
            **await case_context(session, actor, case, language_of(request)),
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
        actor = await signed_in(request, state, session)
        if actor is None:
            return Response(status_code=401)
        case = await get_case_for(session, actor, code)
        events = await timeline.events_of(session, case.id)
        context = {
            "tz": state.site.timezone,
            "labels": STATUS_LABELS_VI,
            "units": {u.id: u for u in await list_units(session)},
            "version": version_in(events),
            **await timeline_context(session, actor, case, events, read_logged=False),
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


def form_refusal(refused: dict[str, Message]) -> InvalidInput:
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
        error = form_refusal(refused)
    else:
        try:
            async with state.unit_of_work() as session:
                actor = await signed_in(request, state, session)
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
    return await render_case(request, state, code, error=error, action=verb.value, typed=form)


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
        actor = await signed_in(request, state, session)
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
