"""The knowledge base's editor (`/admin/knowledge`), for supervisors and administrators:
every article with its status, a new draft, an article's page with publishing, archiving,
the editor, the history and the comparison of two revisions (knowledge.service)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth import service as auth
from hotline.auth.service import Actor
from hotline.directory import service as directory
from hotline.errors import DomainError, InvalidInput, NotFound
from hotline.knowledge import queries
from hotline.knowledge import service as knowledge
from hotline.knowledge.access import get_article_for, require_editor, wanted_statuses
from hotline.knowledge.models import ArticleStatus
from hotline.knowledge.service import Content
from hotline.web.deps import get_state
from hotline.web.forms import Errors, PageForm, Workspace
from hotline.web.i18n import language_of
from hotline.web.state import AppState

ws = Workspace(__file__)
router = APIRouter(include_in_schema=False)
StateDep = Annotated[AppState, Depends(get_state)]
ALL_STATUSES = [s.value for s in ArticleStatus]
VERBS = frozenset({"save", "publish", "archive"})


class ArticleForm(PageForm):
    question: str = ""
    answer: str = ""
    category: str = ""
    source_document: str = ""
    source_url: str = ""
    valid_from: str = ""
    valid_until: str = ""
    note: str = ""

    def content(self) -> Content:
        """The form as article content; a date that is not one names its field."""
        days: dict[str, date | None] = {}
        for name in ("valid_from", "valid_until"):
            raw = getattr(self, name).strip()
            try:
                days[name] = date.fromisoformat(raw) if raw else None
            except ValueError:
                raise InvalidInput("Ngày theo dạng năm-tháng-ngày", field=name) from None
        return Content(
            question=self.question,
            answer=self.answer,
            category_code=self.category.strip() or None,
            source_document=self.source_document,
            source_url=self.source_url.strip() or None,
            valid_from=days["valid_from"],
            valid_until=days["valid_until"],
        )


class VerbForm(ArticleForm):
    version: str = ""  # the article's version the page showed


@router.get("/admin/knowledge", response_class=HTMLResponse)
async def articles(
    request: Request, state: StateDep, q: Annotated[str, Query(max_length=200)] = ""
) -> Response:
    return await _list_page(request, state, q=q)


async def _list_page(
    request: Request,
    state: AppState,
    *,
    q: str = "",
    errors: Errors | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    async def load(session: AsyncSession, actor: Actor) -> dict[str, Any]:
        filters = queries.ArticleFilter(
            q=q.strip() or None,
            statuses=wanted_statuses(actor, ALL_STATUSES),
            valid_only=False,
        )
        hits, more = await queries.search_articles(session, filters=filters, limit=100)
        found = [h.article for h in hits]
        names = await auth.display_names(
            session, {a.updated_by_id for a in found if a.updated_by_id}
        )
        categories = await directory.list_categories(session, include_inactive=True)
        return {
            "q": q,
            "articles": found,
            "more": more,
            "names": names,
            "categories": categories,
            "category_names": {
                c.code: directory.category_name(c, language_of(request)) for c in categories
            },
        }

    return await ws.page(
        request,
        state,
        "knowledge/editor.html",
        load,
        errors=errors,
        typed=typed,
        status_code=status_code,
    )


@router.post("/admin/knowledge", response_class=HTMLResponse)
async def create_article(
    request: Request, state: StateDep, form: Annotated[ArticleForm, Form()]
) -> Response:
    async def change(session: AsyncSession, actor: Actor) -> str:
        article = await knowledge.create_article(
            session, actor=actor, content=form.content(), note=form.note
        )
        return f"/admin/knowledge/{article.id}?done=created"

    async def again(errors: Errors, status: int) -> Response:
        return await _list_page(
            request, state, errors=errors, typed=form.typed(), status_code=status
        )

    return await ws.submit(request, state, form, change, again=again)


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
    errors: Errors | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    async def load(session: AsyncSession, actor: Actor) -> dict[str, Any]:
        require_editor(actor)
        article = await get_article_for(session, actor, article_id)
        working = await knowledge.working_content(session, article)
        revisions = await knowledge.revisions_for(session, actor=actor, article=article)
        diff: list[knowledge.FieldDiff] | None = None
        diff_error = None
        if old is not None and new is not None:
            try:
                diff = await knowledge.compare_revisions(
                    session, actor=actor, article=article, old=old, new=new
                )
            except DomainError as exc:
                diff_error = exc.detail
        ids = {r.actor_id for r in revisions if r.actor_id}
        ids |= {i for i in (article.created_by_id, article.updated_by_id) if i}
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
        return {
            "article": article,
            "typed": shown,
            "revisions": list(reversed(revisions)),
            "names": await auth.display_names(session, ids),
            "categories": categories,
            "category_names": {
                c.code: directory.category_name(c, language_of(request)) for c in categories
            },
            "old": old,
            "new": new,
            "diff": diff,
            "diff_error": diff_error,
        }

    return await ws.page(
        request,
        state,
        "knowledge/article.html",
        load,
        errors=errors,
        status_code=status_code,
    )


@router.post("/admin/knowledge/{article_id}/{verb}", response_class=HTMLResponse)
async def article_verb(
    request: Request,
    article_id: int,
    verb: str,
    state: StateDep,
    form: Annotated[VerbForm, Form()],
) -> Response:
    """Save the editor's text as a new revision, publish the draft, or archive, with the
    version the page showed (a change someone made meanwhile is refused, not overwritten)."""
    if verb not in VERBS:
        raise NotFound("Không có thao tác này", field="verb")
    expected = int(form.version) if form.version.strip().isdigit() else None

    async def change(session: AsyncSession, actor: Actor) -> str:
        article = await get_article_for(session, actor, article_id)
        if verb == "save":
            content = form.content()
            await knowledge.update_article(
                session,
                actor=actor,
                article=article,
                changes={n: getattr(content, n) for n in knowledge.CONTENT_FIELDS},
                note=form.note,
                expected_version=expected,
            )
        elif verb == "publish":
            await knowledge.publish_article(
                session, actor=actor, article=article, note=form.note, expected_version=expected
            )
        else:
            await knowledge.archive_article(
                session, actor=actor, article=article, note=form.note, expected_version=expected
            )
        return f"/admin/knowledge/{article_id}?done={verb}"

    async def again(errors: Errors, status: int) -> Response:
        # Only the editor's text is typed back; publishing and archiving show the article.
        typed = form.typed() if verb == "save" else None
        return await _article_page(
            request, state, article_id, errors=errors, typed=typed, status_code=status
        )

    return await ws.submit(
        request, state, form, change, again=again, fields=ArticleForm.fields(), missing="id"
    )
