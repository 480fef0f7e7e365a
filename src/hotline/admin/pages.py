"""The administration pages (`/admin`): users and their phones' SIP logins, categories,
units, triage model versions, the knowledge base's editor, the phone line's settings
(read only).

Thin routes: every read and change goes through the service the JSON API and the CLI call
(auth.accounts, agents.service, directory.service, triage.service), which checks the
permission; a refusal is shown as it comes (403 page, or next to the control it concerns).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.agents import service as agents
from hotline.auth import accounts
from hotline.auth import service as auth
from hotline.auth.models import Role
from hotline.auth.permissions import Permission, allows
from hotline.auth.service import Actor
from hotline.cases.training import history_examples
from hotline.directory import service as directory
from hotline.errors import DomainError, InvalidInput, NotFound
from hotline.knowledge import queries
from hotline.knowledge import service as knowledge_service
from hotline.knowledge.access import get_article_for, require_editor, wanted_statuses
from hotline.knowledge.models import ArticleStatus
from hotline.knowledge.service import Content
from hotline.messages import msg
from hotline.phoneconfig import service as phoneconfig
from hotline.phoneconfig.defaults import default_config
from hotline.triage import service as triage
from hotline.web.deps import get_state
from hotline.web.page import csrf_matches, csrf_token, nav_for, page_actor, templates_for
from hotline.web.state import AppState

templates = templates_for(__file__)
router = APIRouter(include_in_schema=False)
StateDep = Annotated[AppState, Depends(get_state)]
FormText = Annotated[str, Form()]
EXPIRED = msg("Phiên làm việc đã hết hạn, vui lòng thử lại.")

ROLES = [r.value for r in Role]


class _Refused(Exception):
    """Carries the page to answer with out of a helper (sign-in redirect)."""

    def __init__(self, response: Response) -> None:
        self.response = response


async def _actor(request: Request, state: AppState, session: AsyncSession) -> Actor:
    actor = await page_actor(request, state, session)
    if actor is None or actor.user_id is None:
        raise _Refused(RedirectResponse("/login", status_code=303))
    return actor


async def _common(
    request: Request, state: AppState, session: AsyncSession, actor: Actor
) -> dict[str, Any]:
    assert actor.user_id is not None
    return {
        "user": await auth.get_user(session, actor.user_id),
        "csrf": csrf_token(request),
        "nav": nav_for(actor),
        "tz": state.site.timezone,
        "roles": ROLES,
    }


def _refused(request: Request, context: dict[str, Any], exc: DomainError) -> Response:
    """A read the service refused (403) or found nothing for (404), with its reason."""
    return templates.TemplateResponse(
        request,
        "admin/refused.html",
        {**context, "message": exc.detail, "status": exc.status},
        status_code=exc.status,
    )


def _field_error(exc: DomainError, fields: frozenset[str], fallback: str) -> dict[str, str]:
    """A service's refusal, keyed by the form field it names (else the form's own slot)."""
    return {exc.field if exc.field in fields else fallback: exc.detail}


# -- index ------------------------------------------------------------------------------------


@router.get("/admin", response_class=HTMLResponse)
async def index(request: Request, state: StateDep) -> Response:
    async with state.unit_of_work(read_only=True) as session:
        try:
            actor = await _actor(request, state, session)
        except _Refused as r:
            return r.response
        context = await _common(request, state, session, actor)
    # Which links to offer (each page still asks its service: a link is not a permission).
    links = {
        "users": allows(actor, Permission.VIEW_USERS),
        "directory": allows(actor, Permission.MANAGE_DIRECTORY),
        "triage": allows(actor, Permission.VIEW_TRIAGE_MODELS),
        "knowledge": allows(actor, Permission.EDIT_KNOWLEDGE),
        "phone": allows(actor, Permission.CONFIGURE_PHONE),
    }
    return templates.TemplateResponse(request, "admin/index.html", {**context, "links": links})


# -- users ------------------------------------------------------------------------------------

USER_FIELDS = frozenset({"username", "password", "role", "unit", "full_name"})


@router.get("/admin/users", response_class=HTMLResponse)
async def users(request: Request, state: StateDep) -> Response:
    return await _users_page(request, state)


async def _users_page(
    request: Request,
    state: AppState,
    *,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    async with state.unit_of_work(read_only=True) as session:
        try:
            actor = await _actor(request, state, session)
        except _Refused as r:
            return r.response
        context = await _common(request, state, session, actor)
        try:
            people = await auth.list_users(session, actor=actor)
        except DomainError as exc:
            return _refused(request, context, exc)
        sip = await agents.sip_usernames(session)
        units = {u.id: u for u in await directory.list_units(session)}
    return templates.TemplateResponse(
        request,
        "admin/users.html",
        {
            **context,
            "people": people,
            "sip": sip,
            "units": units,
            "can_manage": allows(actor, Permission.MANAGE_USERS),
            "errors": errors or {},
            "typed": typed or {},
            "done": request.query_params.get("done"),
        },
        status_code=status_code,
    )


@router.post("/admin/users", response_class=HTMLResponse)
async def create_user(
    request: Request,
    state: StateDep,
    csrf: FormText = "",
    username: FormText = "",
    full_name: FormText = "",
    role: FormText = "",
    unit: FormText = "",
    password: FormText = "",
) -> Response:
    typed = {"username": username, "full_name": full_name, "role": role, "unit": unit}
    if not csrf_matches(request, csrf):
        return await _users_page(
            request, state, errors={"form": EXPIRED}, typed=typed, status_code=400
        )
    if unit.strip() and not unit.strip().isdigit():
        return await _users_page(
            request, state, errors={"unit": msg("Chọn một đơn vị")}, typed=typed, status_code=422
        )
    try:
        async with state.unit_of_work() as session:
            actor = await _actor(request, state, session)
            created = await accounts.create_account(
                session,
                actor=actor,
                username=username,
                password=password,
                role=role,
                unit_id=int(unit) if unit.strip() else None,
                full_name=full_name.strip(),
            )
            user_id = created.id
    except _Refused as r:
        return r.response
    except DomainError as exc:
        errors = _field_error(exc, USER_FIELDS, "form")
        return await _users_page(request, state, errors=errors, typed=typed, status_code=exc.status)
    return RedirectResponse(f"/admin/users/{user_id}?done=created", status_code=303)


@router.get("/admin/users/{user_id}", response_class=HTMLResponse)
async def user_page(request: Request, user_id: int, state: StateDep) -> Response:
    return await _user_page(request, state, user_id)


async def _user_page(
    request: Request,
    state: AppState,
    user_id: int,
    *,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    async with state.unit_of_work(read_only=True) as session:
        try:
            actor = await _actor(request, state, session)
        except _Refused as r:
            return r.response
        context = await _common(request, state, session, actor)
        try:
            person = await auth.view_user(session, actor=actor, user_id=user_id)
        except DomainError as exc:
            return _refused(request, context, exc)
        agent = await agents.find_agent(session, user_id=user_id)
        unit = await directory.get_unit(session, person.unit_id) if person.unit_id else None
    return templates.TemplateResponse(
        request,
        "admin/user.html",
        {
            **context,
            "person": person,
            "agent": agent,
            "unit": unit,
            "takes_calls": agents.takes_calls(person),
            "can_manage": allows(actor, Permission.MANAGE_USERS),
            "can_sip": allows(actor, Permission.CONFIGURE_PHONE),
            "errors": errors or {},
            "typed": typed or {},
            "done": request.query_params.get("done"),
        },
        status_code=status_code,
    )


async def _user_change(
    request: Request,
    state: AppState,
    user_id: int,
    csrf: str,
    change: Any,
    *,
    done: str,
    fields: frozenset[str],
    fallback: str,
    typed: dict[str, str] | None = None,
) -> Response:
    """Run one account change in its own transaction; on refusal, the user's page again with
    the message next to the control (`fallback` when the service names no field of it)."""
    if not csrf_matches(request, csrf):
        return await _user_page(
            request, state, user_id, errors={fallback: EXPIRED}, typed=typed, status_code=400
        )
    try:
        async with state.unit_of_work() as session:
            actor = await _actor(request, state, session)
            await change(session, actor)
    except _Refused as r:
        return r.response
    except DomainError as exc:
        errors = _field_error(exc, fields, fallback)
        return await _user_page(
            request, state, user_id, errors=errors, typed=typed, status_code=exc.status
        )
    # Credentials ended in the database; this process's token cache forgets them too.
    state.tokens.discard_user(user_id)
    return RedirectResponse(f"/admin/users/{user_id}?done={done}", status_code=303)


@router.post("/admin/users/{user_id}/active", response_class=HTMLResponse)
async def set_active(
    request: Request, user_id: int, state: StateDep, csrf: FormText = "", active: FormText = ""
) -> Response:
    async def change(session: AsyncSession, actor: Actor) -> None:
        await accounts.set_active(session, actor=actor, user_id=user_id, active=active == "1")

    done = "enabled" if active == "1" else "disabled"
    return await _user_change(
        request, state, user_id, csrf, change, done=done, fields=frozenset(), fallback="active"
    )


@router.post("/admin/users/{user_id}/password", response_class=HTMLResponse)
async def set_password(
    request: Request, user_id: int, state: StateDep, csrf: FormText = "", password: FormText = ""
) -> Response:
    async def change(session: AsyncSession, actor: Actor) -> None:
        await accounts.set_password(session, actor=actor, user_id=user_id, new_password=password)

    return await _user_change(
        request,
        state,
        user_id,
        csrf,
        change,
        done="password",
        fields=frozenset({"password"}),
        fallback="password",
    )


@router.post("/admin/users/{user_id}/revoke", response_class=HTMLResponse)
async def revoke(request: Request, user_id: int, state: StateDep, csrf: FormText = "") -> Response:
    async def change(session: AsyncSession, actor: Actor) -> None:
        await accounts.revoke_user(session, actor=actor, user_id=user_id)

    return await _user_change(
        request, state, user_id, csrf, change, done="revoked", fields=frozenset(), fallback="revoke"
    )


@router.post("/admin/users/{user_id}/sip", response_class=HTMLResponse)
async def set_sip(
    request: Request,
    user_id: int,
    state: StateDep,
    csrf: FormText = "",
    sip_username: FormText = "",
    sip_password: FormText = "",
    sip_uri: FormText = "",
) -> Response:
    async def change(session: AsyncSession, actor: Actor) -> None:
        await agents.set_sip_credentials(
            session,
            actor=actor,
            user_id=user_id,
            username=sip_username.strip(),
            password=sip_password,
            realm=state.settings.sip_realm,
            uri=sip_uri.strip(),
        )

    return await _user_change(
        request,
        state,
        user_id,
        csrf,
        _prefixed(change),
        done="sip",
        fields=frozenset({"sip_username", "sip_password", "sip_uri"}),
        fallback="sip",
        typed={"sip_username": sip_username, "sip_uri": sip_uri},
    )


def _prefixed(change: Any) -> Any:
    """The SIP service names its fields username/password/uri; on the page they sit next to
    the account's own, so they are told apart by a prefix."""

    async def run(session: AsyncSession, actor: Actor) -> None:
        try:
            await change(session, actor)
        except DomainError as exc:
            if exc.field in {"username", "password", "uri"}:
                exc.field = f"sip_{exc.field}"
            raise

    return run


# -- categories and units ---------------------------------------------------------------------


@router.get("/admin/categories", response_class=HTMLResponse)
async def categories(request: Request, state: StateDep) -> Response:
    return await _categories_page(request, state)


async def _categories_page(
    request: Request,
    state: AppState,
    *,
    failed: str | None = None,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    async with state.unit_of_work(read_only=True) as session:
        try:
            actor = await _actor(request, state, session)
        except _Refused as r:
            return r.response
        context = await _common(request, state, session, actor)
        try:
            rows = await directory.categories_to_manage(session, actor=actor)
        except DomainError as exc:
            return _refused(request, context, exc)
    return templates.TemplateResponse(
        request,
        "admin/categories.html",
        {
            **context,
            "rows": rows,
            "failed": failed,
            "errors": errors or {},
            "typed": typed or {},
            "done": request.query_params.get("done"),
        },
        status_code=400 if errors else 200,
    )


@router.post("/admin/categories/{code}", response_class=HTMLResponse)
async def update_category(
    request: Request,
    code: str,
    state: StateDep,
    csrf: FormText = "",
    forward_hours: FormText = "",
    active: FormText = "",
) -> Response:
    typed = {"forward_hours": forward_hours}
    error: DomainError | None = None
    if not csrf_matches(request, csrf):
        error = InvalidInput(EXPIRED, field="forward_hours")
    elif not forward_hours.strip().isdigit():
        error = InvalidInput("Thời hạn là số giờ", field="forward_hours")
    else:
        try:
            async with state.unit_of_work() as session:
                actor = await _actor(request, state, session)
                await directory.update_category(
                    session,
                    actor=actor,
                    code=code,
                    forward_hours=int(forward_hours),
                    active=active == "1",
                )
        except _Refused as r:
            return r.response
        except DomainError as exc:
            error = exc
    if error is not None:
        return await _categories_page(
            request, state, failed=code, errors={"forward_hours": error.detail}, typed=typed
        )
    return RedirectResponse(f"/admin/categories?done={code}#cat-{code}", status_code=303)


@router.get("/admin/units", response_class=HTMLResponse)
async def units(request: Request, state: StateDep) -> Response:
    async with state.unit_of_work(read_only=True) as session:
        try:
            actor = await _actor(request, state, session)
        except _Refused as r:
            return r.response
        context = await _common(request, state, session, actor)
        try:
            tree = await directory.unit_tree(session, actor=actor)
        except DomainError as exc:
            return _refused(request, context, exc)
        names = {
            c.code: c.name_vi
            for c in await directory.list_categories(session, include_inactive=True)
        }
    return templates.TemplateResponse(
        request, "admin/units.html", {**context, "tree": tree, "category_names": names}
    )


# -- triage models ----------------------------------------------------------------------------


@router.get("/admin/triage", response_class=HTMLResponse)
async def triage_models(request: Request, state: StateDep) -> Response:
    return await _triage_page(request, state)


async def _triage_page(
    request: Request, state: AppState, *, error: str | None = None, status_code: int = 200
) -> Response:
    async with state.unit_of_work(read_only=True) as session:
        try:
            actor = await _actor(request, state, session)
        except _Refused as r:
            return r.response
        context = await _common(request, state, session, actor)
        try:
            models = await triage.list_models(session, actor=actor)
        except DomainError as exc:
            return _refused(request, context, exc)
        names = {
            c.code: c.name_vi
            for c in await directory.list_categories(session, include_inactive=True)
        }
        rows = [
            {
                "version": m.version,
                "created_at": m.created_at,
                "created_by": m.created_by,
                "active": m.active,
                "trained_on": m.trained_on or {},
                "metrics": m.metrics or {},
            }
            for m in models
        ]
    return templates.TemplateResponse(
        request,
        "admin/triage.html",
        {
            **context,
            "models": rows,
            "category_names": names,
            "can_manage": allows(actor, Permission.MANAGE_TRIAGE_MODELS),
            "error": error,
            "done": request.query_params.get("done"),
        },
        status_code=status_code,
    )


@router.post("/admin/triage/train", response_class=HTMLResponse)
async def train(request: Request, state: StateDep, csrf: FormText = "") -> Response:
    """Train a new version as `hotline triage train` does (corpus + confirmed history); the
    fit runs in a worker thread (triage.service), the request waits for it."""
    if not csrf_matches(request, csrf):
        return await _triage_page(request, state, error=EXPIRED, status_code=400)
    try:
        async with state.unit_of_work() as session:
            actor = await _actor(request, state, session)
            row = await triage.train_model(
                session, actor=actor, history=await history_examples(session)
            )
            version = row.version
    except _Refused as r:
        return r.response
    except DomainError as exc:
        return await _triage_page(request, state, error=exc.detail, status_code=exc.status)
    return RedirectResponse(f"/admin/triage?done=trained-{version}", status_code=303)


@router.post("/admin/triage/{version}/activate", response_class=HTMLResponse)
async def activate(
    request: Request, version: int, state: StateDep, csrf: FormText = ""
) -> Response:
    if not csrf_matches(request, csrf):
        return await _triage_page(request, state, error=EXPIRED, status_code=400)
    try:
        async with state.unit_of_work() as session:
            actor = await _actor(request, state, session)
            await triage.activate_model(session, actor=actor, version=version)
    except _Refused as r:
        return r.response
    except DomainError as exc:
        return await _triage_page(request, state, error=exc.detail, status_code=exc.status)
    return RedirectResponse(f"/admin/triage?done=activated-{version}", status_code=303)


# -- knowledge base editor --------------------------------------------------------------------

ARTICLE_FIELDS = frozenset(
    {
        "question",
        "answer",
        "category",
        "source_document",
        "source_url",
        "valid_from",
        "valid_until",
        "slug",
        "note",
    }
)
ALL_STATUSES = [s.value for s in ArticleStatus]


def _content_form(form: dict[str, str]) -> Content:
    """The editor's form as article content; a date that is not one names its field."""
    days: dict[str, date | None] = {}
    for name in ("valid_from", "valid_until"):
        raw = form.get(name, "").strip()
        try:
            days[name] = date.fromisoformat(raw) if raw else None
        except ValueError:
            raise InvalidInput("Ngày theo dạng năm-tháng-ngày", field=name) from None
    return Content(
        question=form.get("question", ""),
        answer=form.get("answer", ""),
        category_code=form.get("category", "").strip() or None,
        source_document=form.get("source_document", ""),
        source_url=form.get("source_url", "").strip() or None,
        valid_from=days["valid_from"],
        valid_until=days["valid_until"],
    )


@router.get("/admin/knowledge", response_class=HTMLResponse)
async def knowledge(
    request: Request, state: StateDep, q: Annotated[str, Query(max_length=200)] = ""
) -> Response:
    return await _knowledge_page(request, state, q=q)


async def _knowledge_page(
    request: Request,
    state: AppState,
    *,
    q: str = "",
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    async with state.unit_of_work(read_only=True) as session:
        try:
            actor = await _actor(request, state, session)
        except _Refused as r:
            return r.response
        context = await _common(request, state, session, actor)
        try:
            filters = queries.ArticleFilter(
                q=q.strip() or None,
                statuses=wanted_statuses(actor, ALL_STATUSES),
                valid_only=False,
            )
        except DomainError as exc:
            return _refused(request, context, exc)
        hits, more = await queries.search_articles(session, filters=filters, limit=100)
        articles = [h.article for h in hits]
        names = await auth.display_names(
            session, {a.updated_by_id for a in articles if a.updated_by_id}
        )
        categories = await directory.list_categories(session, include_inactive=True)
    return templates.TemplateResponse(
        request,
        "admin/knowledge.html",
        {
            **context,
            "q": q,
            "articles": articles,
            "more": more,
            "names": names,
            "categories": categories,
            "category_names": {c.code: c.name_vi for c in categories},
            "errors": errors or {},
            "typed": typed or {},
        },
        status_code=status_code,
    )


@router.post("/admin/knowledge", response_class=HTMLResponse)
async def create_article(
    request: Request,
    state: StateDep,
    csrf: FormText = "",
    question: FormText = "",
    answer: FormText = "",
    category: FormText = "",
    source_document: FormText = "",
    source_url: FormText = "",
    valid_from: FormText = "",
    valid_until: FormText = "",
    note: FormText = "",
) -> Response:
    form = {
        "question": question,
        "answer": answer,
        "category": category,
        "source_document": source_document,
        "source_url": source_url,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "note": note,
    }
    if not csrf_matches(request, csrf):
        return await _knowledge_page(
            request, state, errors={"form": EXPIRED}, typed=form, status_code=400
        )
    try:
        async with state.unit_of_work() as session:
            actor = await _actor(request, state, session)
            article = await knowledge_service.create_article(
                session, actor=actor, content=_content_form(form), note=note
            )
            article_id = article.id
    except _Refused as r:
        return r.response
    except DomainError as exc:
        return await _knowledge_page(
            request,
            state,
            errors=_field_error(exc, ARTICLE_FIELDS, "form"),
            typed=form,
            status_code=exc.status,
        )
    return RedirectResponse(f"/admin/knowledge/{article_id}?done=created", status_code=303)


@router.get("/admin/knowledge/{article_id}", response_class=HTMLResponse)
async def article_page(
    request: Request,
    article_id: int,
    state: StateDep,
    old: Annotated[int | None, Query()] = None,
    new: Annotated[int | None, Query()] = None,
) -> Response:
    return await _article_page(request, state, article_id, old=old, new=new)


async def _article_page(
    request: Request,
    state: AppState,
    article_id: int,
    *,
    old: int | None = None,
    new: int | None = None,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    async with state.unit_of_work(read_only=True) as session:
        try:
            actor = await _actor(request, state, session)
        except _Refused as r:
            return r.response
        context = await _common(request, state, session, actor)
        try:
            require_editor(actor)
            article = await get_article_for(session, actor, article_id)
        except DomainError as exc:
            return _refused(request, context, exc)
        working = await knowledge_service.working_content(session, article)
        revisions = await knowledge_service.revisions_for(session, actor=actor, article=article)
        diff: list[knowledge_service.FieldDiff] | None = None
        diff_error = None
        if old is not None and new is not None:
            try:
                diff = await knowledge_service.compare_revisions(
                    session, actor=actor, article=article, old=old, new=new
                )
            except DomainError as exc:
                diff_error = exc.detail
        ids = {r.actor_id for r in revisions if r.actor_id}
        ids |= {i for i in (article.created_by_id, article.updated_by_id) if i}
        names = await auth.display_names(session, ids)
        categories = await directory.list_categories(session, include_inactive=True)
    shown = typed or {
        "question": working.question,
        "answer": working.answer,
        "category": working.category_code or "",
        "source_document": working.source_document,
        "source_url": working.source_url or "",
        "valid_from": working.valid_from.isoformat() if working.valid_from else "",
        "valid_until": working.valid_until.isoformat() if working.valid_until else "",
    }
    return templates.TemplateResponse(
        request,
        "admin/article.html",
        {
            **context,
            "article": article,
            "typed": shown,
            "revisions": list(reversed(revisions)),
            "names": names,
            "categories": categories,
            "category_names": {c.code: c.name_vi for c in categories},
            "old": old,
            "new": new,
            "diff": diff,
            "diff_error": diff_error,
            "errors": errors or {},
            "done": request.query_params.get("done"),
        },
        status_code=status_code,
    )


@router.post("/admin/knowledge/{article_id}/{verb}", response_class=HTMLResponse)
async def article_verb(
    request: Request,
    article_id: int,
    verb: str,
    state: StateDep,
    csrf: FormText = "",
    version: FormText = "",
    question: FormText = "",
    answer: FormText = "",
    category: FormText = "",
    source_document: FormText = "",
    source_url: FormText = "",
    valid_from: FormText = "",
    valid_until: FormText = "",
    note: FormText = "",
) -> Response:
    """Save the editor's text as a new revision, publish the draft, or archive, with the
    version the page showed (a change someone made meanwhile is refused, not overwritten)."""
    if verb not in {"save", "publish", "archive"}:
        raise NotFound("Không có thao tác này", field="verb")
    form = {
        "question": question,
        "answer": answer,
        "category": category,
        "source_document": source_document,
        "source_url": source_url,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "note": note,
    }
    typed = form if verb == "save" else None
    if not csrf_matches(request, csrf):
        return await _article_page(
            request, state, article_id, errors={"form": EXPIRED}, typed=typed, status_code=400
        )
    try:
        async with state.unit_of_work() as session:
            actor = await _actor(request, state, session)
            article = await get_article_for(session, actor, article_id)
            expected = int(version) if version.strip().isdigit() else None
            if verb == "save":
                content = _content_form(form)
                await knowledge_service.update_article(
                    session,
                    actor=actor,
                    article=article,
                    changes={n: getattr(content, n) for n in knowledge_service.CONTENT_FIELDS},
                    note=note,
                    expected_version=expected,
                )
            elif verb == "publish":
                await knowledge_service.publish_article(
                    session, actor=actor, article=article, note=note, expected_version=expected
                )
            else:
                await knowledge_service.archive_article(
                    session, actor=actor, article=article, note=note, expected_version=expected
                )
    except _Refused as r:
        return r.response
    except NotFound as exc:
        if exc.field == "id":
            raise
        return await _article_page(
            request, state, article_id, errors={"form": exc.detail}, typed=typed, status_code=404
        )
    except DomainError as exc:
        return await _article_page(
            request,
            state,
            article_id,
            errors=_field_error(exc, ARTICLE_FIELDS, "form"),
            typed=typed,
            status_code=exc.status,
        )
    return RedirectResponse(f"/admin/knowledge/{article_id}?done={verb}", status_code=303)


# -- phone configuration (read only) ----------------------------------------------------------


@router.get("/admin/phone", response_class=HTMLResponse)
async def phone(request: Request, state: StateDep) -> Response:
    """The phone line's settings as the line uses them (defaults with the stored changes laid
    over them) and the latest changes with who made them; changes go through the API."""
    async with state.unit_of_work(read_only=True) as session:
        try:
            actor = await _actor(request, state, session)
        except _Refused as r:
            return r.response
        context = await _common(request, state, session, actor)
        try:
            changes = await phoneconfig.list_changes(session, actor=actor, limit=50)
        except DomainError as exc:
            return _refused(request, context, exc)
        loaded = await phoneconfig.load_config(session, defaults=default_config(state.settings))
        names = await auth.display_names(session, {c.user_id for c in changes if c.user_id})
    sections = []
    for kind, (attr, _schema, key_field) in phoneconfig.KINDS.items():
        items = [
            {
                "key": getattr(o, key_field),
                "version": loaded.versions.get((kind, getattr(o, key_field)), 0),
                "data": json.dumps(o.model_dump(mode="json"), ensure_ascii=False, indent=2),
            }
            for o in getattr(loaded.config, attr)
        ]
        sections.append({"kind": kind, "entries": items})
    return templates.TemplateResponse(
        request,
        "admin/phone.html",
        {
            **context,
            "version": loaded.version,
            "sections": sections,
            "changes": changes,
            "names": names,
        },
    )
