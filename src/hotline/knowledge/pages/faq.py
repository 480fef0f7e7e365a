"""The citizen portal's FAQ page: published, currently valid articles, searchable."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from hotline.directory.service import category_name, list_categories
from hotline.knowledge.queries import public_articles
from hotline.messages import msg
from hotline.web.deps import get_state, public_rate_limit
from hotline.web.i18n import language_of
from hotline.web.page import templates_for
from hotline.web.state import AppState

templates = templates_for(__file__)
router = APIRouter(include_in_schema=False, dependencies=[Depends(public_rate_limit)])
StateDep = Annotated[AppState, Depends(get_state)]
OTHER = msg("Khác")


@router.get("/faq", response_class=HTMLResponse)
async def faq(
    request: Request, state: StateDep, q: Annotated[str, Query(max_length=200)] = ""
) -> Response:
    async with state.unit_of_work(read_only=True) as session:
        articles = await public_articles(session, q=q.strip() or None)
        categories = await list_categories(session)
    language = language_of(request)
    names = {c.code: category_name(c, language) for c in categories}
    order = {c.code: i for i, c in enumerate(categories)}
    groups: dict[str, list[object]] = {}
    # Searched: groups in the order of their best hit; browsing: the category order.
    if not q.strip():
        articles.sort(key=lambda a: (order.get(a.category_code or "", 999), a.question))
    for a in articles:
        groups.setdefault(names.get(a.category_code or "", OTHER), []).append(a)
    return templates.TemplateResponse(
        request,
        "knowledge/faq.html",
        {"q": q, "groups": groups, "count": len(articles), "site_name": state.settings.site_name},
    )
