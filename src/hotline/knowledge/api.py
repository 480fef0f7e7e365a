"""JSON routes for the knowledge base, case suggestions, and the public FAQ."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Actor
from hotline.cases.access import get_case_for
from hotline.cases.medical import ARTICLES_PURPOSE, shown_cases
from hotline.directory.service import list_categories
from hotline.knowledge import queries, service, suggest
from hotline.knowledge.access import (
    get_article_for,
    get_public_article,
    wanted_statuses,
)
from hotline.knowledge.models import Article
from hotline.knowledge.schemas import (
    ArticleIn,
    ArticleOut,
    ArticlePage,
    ArticlePatch,
    NoteIn,
    PublicArticleOut,
    PublicFaq,
    RevisionOut,
    SuggestIn,
    SuggestionOut,
    UsedOut,
)
from hotline.types import Id
from hotline.web.deps import current_actor, get_state, public_rate_limit
from hotline.web.state import AppState

router = APIRouter(prefix="/api/v1/knowledge", tags=["knowledge"])
case_router = APIRouter(prefix="/api/v1/cases", tags=["knowledge"])
public_router = APIRouter(
    prefix="/api/v1/public", tags=["public"], dependencies=[Depends(public_rate_limit)]
)
ActorDep = Annotated[Actor, Depends(current_actor)]
StateDep = Annotated[AppState, Depends(get_state)]


async def _out(session: AsyncSession, actor: Actor, article: Article) -> ArticleOut:
    draft = await service.draft_for(session, actor=actor, article=article)
    return ArticleOut.of_article(article, draft=draft)


@router.get("/articles", response_model=ArticlePage)
async def list_articles(
    actor: ActorDep,
    state: StateDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    category: str | None = None,
    status: Annotated[list[str] | None, Query()] = None,
    include_invalid: bool = False,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ArticlePage:
    """Search (any word order, with or without diacritics) or list; published and valid
    today unless `status` / `include_invalid` ask otherwise."""
    filters = queries.ArticleFilter(
        q=q,
        category=category,
        statuses=wanted_statuses(actor, status),
        valid_only=not include_invalid,
    )
    async with state.unit_of_work(read_only=True) as session:
        hits, more = await queries.search_articles(
            session, filters=filters, limit=limit, offset=(page - 1) * limit
        )
        return ArticlePage(
            items=[ArticleOut.of_article(h.article, rank=h.rank) for h in hits],
            page=page,
            limit=limit,
            has_more=more,
        )


@router.post("/articles", status_code=201, response_model=ArticleOut)
async def create_article(body: ArticleIn, actor: ActorDep, state: StateDep) -> ArticleOut:
    async with state.unit_of_work() as session:
        article = await service.create_article(
            session, actor=actor, content=body.content(), slug=body.slug, note=body.note
        )
        return await _out(session, actor, article)


@router.get("/articles/{article_id}", response_model=ArticleOut)
async def get_article(article_id: Id, actor: ActorDep, state: StateDep) -> ArticleOut:
    async with state.unit_of_work(read_only=True) as session:
        return await _out(session, actor, await get_article_for(session, actor, article_id))


@router.patch("/articles/{article_id}", response_model=ArticleOut)
async def update_article(
    article_id: Id, body: ArticlePatch, actor: ActorDep, state: StateDep
) -> ArticleOut:
    async with state.unit_of_work() as session:
        article = await get_article_for(session, actor, article_id)
        await service.update_article(
            session,
            actor=actor,
            article=article,
            changes=body.changes(),
            note=body.note,
            expected_version=body.version,
        )
        return await _out(session, actor, article)


@router.post("/articles/{article_id}/publish", response_model=ArticleOut)
async def publish_article(
    article_id: Id, actor: ActorDep, state: StateDep, body: NoteIn | None = None
) -> ArticleOut:
    async with state.unit_of_work() as session:
        article = await get_article_for(session, actor, article_id)
        await service.publish_article(
            session,
            actor=actor,
            article=article,
            note=body.note if body else "",
            expected_version=body.version if body else None,
        )
        return await _out(session, actor, article)


@router.post("/articles/{article_id}/archive", response_model=ArticleOut)
async def archive_article(
    article_id: Id, actor: ActorDep, state: StateDep, body: NoteIn | None = None
) -> ArticleOut:
    async with state.unit_of_work() as session:
        article = await get_article_for(session, actor, article_id)
        await service.archive_article(
            session,
            actor=actor,
            article=article,
            note=body.note if body else "",
            expected_version=body.version if body else None,
        )
        return await _out(session, actor, article)


@router.get("/articles/{article_id}/revisions", response_model=list[RevisionOut])
async def article_revisions(article_id: Id, actor: ActorDep, state: StateDep) -> list[RevisionOut]:
    """Full history for editors; readers see only what was published."""
    async with state.unit_of_work(read_only=True) as session:
        article = await get_article_for(session, actor, article_id)
        revisions = await service.revisions_for(session, actor=actor, article=article)
        return [RevisionOut.of_revision(r) for r in revisions]


@router.post("/suggest", response_model=list[SuggestionOut])
async def suggest_for_text(
    body: SuggestIn, actor: ActorDep, state: StateDep
) -> list[SuggestionOut]:
    """Articles for a free text (the new-case form, an incoming message)."""
    async with state.unit_of_work() as session:
        found = await suggest.suggest_articles(
            session, text=body.text, category_code=body.category, limit=body.limit
        )
        return [SuggestionOut.of(s) for s in found]


@case_router.get("/{code}/articles", response_model=list[SuggestionOut])
async def suggest_for_case(
    code: str,
    actor: ActorDep,
    state: StateDep,
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
) -> list[SuggestionOut]:
    async with state.unit_of_work(read_only=True) as session:
        case = await get_case_for(session, actor, code)
        # Matched on the text this reader may see: the matched words are shown back, so a
        # care case's medical text is matched only for those in charge (cases/medical.py),
        # and for them it is a logged read of that text.
        (shown,) = await shown_cases(session, actor, [case], purpose=ARTICLES_PURPOSE)
        found = await suggest.suggest_for_description(
            session, description=shown.description, category_code=case.category_code, limit=limit
        )
        return [SuggestionOut.of(s) for s in found]


@case_router.post("/{code}/articles/{article_id}/used", status_code=201, response_model=UsedOut)
async def article_used(code: str, article_id: Id, actor: ActorDep, state: StateDep) -> UsedOut:
    async with state.unit_of_work() as session:
        case = await get_case_for(session, actor, code)
        article = await get_article_for(session, actor, article_id)
        event = await suggest.record_article_used(session, actor=actor, case=case, article=article)
        await session.flush()
        return UsedOut(event_id=event.id, kind=event.kind, article_id=article.id, at=event.at)


@public_router.get("/faq", response_model=PublicFaq)
async def public_faq(
    state: StateDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    category: str | None = None,
) -> PublicFaq:
    """No sign-in: published articles valid today (site timezone)."""
    async with state.unit_of_work(read_only=True) as session:
        articles = await queries.public_articles(session, q=q, category=category)
        names = {c.code: c.name_vi for c in await list_categories(session)}
        return PublicFaq(items=[PublicArticleOut.of(a, names) for a in articles])


@public_router.get("/faq/{slug}", response_model=PublicArticleOut)
async def public_faq_article(slug: str, state: StateDep) -> PublicArticleOut:
    """One FAQ answer by its slug, if published and valid today; else 404."""
    async with state.unit_of_work(read_only=True) as session:
        article = await get_public_article(session, slug)
        names = {c.code: c.name_vi for c in await list_categories(session)}
        return PublicArticleOut.of(article, names)
