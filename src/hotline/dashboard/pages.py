"""The supervisors' dashboard (`/dashboard`): today's counters kept live by the event stream,
the floor as a wallboard, today's charts and the duplicate clusters to merge."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth import service as auth
from hotline.auth.service import Actor
from hotline.cases.transitions import CHANNEL_LABELS_VI, OPEN_STATUSES
from hotline.dashboard import service
from hotline.db import utcnow
from hotline.directory.service import category_names, ward_names
from hotline.duplicates import clusters, merge
from hotline.duplicates.service import short
from hotline.errors import DomainError, NotAllowed
from hotline.web.deps import get_state
from hotline.web.i18n import language_of
from hotline.web.page import csrf_matches, csrf_token, nav_for, page_actor, templates_for
from hotline.web.state import AppState

templates = templates_for(__file__)
router = APIRouter(include_in_schema=False)
StateDep = Annotated[AppState, Depends(get_state)]

OPEN_QUERY = "&".join(f"status={s.value}" for s in sorted(OPEN_STATUSES))


async def _common(request: Request, session: AsyncSession, actor: Actor) -> dict[str, Any]:
    assert actor.user_id is not None
    return {
        "user": await auth.get_user(session, actor.user_id),
        "csrf": csrf_token(request),
        "nav": nav_for(actor),
    }


def _refused(request: Request, context: dict[str, Any], exc: NotAllowed) -> Response:
    return templates.TemplateResponse(
        request, "refused.html", {**context, "message": exc.detail}, status_code=403
    )


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(request: Request, state: StateDep, merged: str = "") -> Response:
    return await _page(request, state, merged=merged)


async def _page(
    request: Request,
    state: AppState,
    *,
    merged: str = "",
    merge_error: str = "",
    status_code: int = 200,
) -> Response:
    now = utcnow()
    async with state.unit_of_work(read_only=True) as session:
        actor = await page_actor(request, state, session)
        if actor is None or actor.user_id is None:
            return RedirectResponse("/login", status_code=303)
        context = await _common(request, session, actor)
        try:
            live, charts = await service.overview(session, actor=actor, now=now)
            found = await clusters.clusters_for(
                session,
                actor=actor,
                since=now - timedelta(hours=state.site.duplicate_window_hours),
                until=now,
            )
        except NotAllowed as exc:
            return _refused(request, context, exc)
        categories = await category_names(session, language=language_of(request))
        # Clusters are grouped by ward: named as the operators know them, not by code.
        wards = await ward_names(session, (cluster.ward_code for cluster in found.items))
    return templates.TemplateResponse(
        request,
        "dashboard/dashboard.html",
        {
            **context,
            "live": live,
            "charts": charts,
            "clusters": found,
            "wards": wards,
            # The clusters' texts shortened as the API's (duplicates.service.short).
            "short": short,
            "categories": categories,
            "channels": CHANNEL_LABELS_VI,
            "open_query": OPEN_QUERY,
            "tz": state.site.timezone,
            "now": now,
            "merged": merged,
            "merge_error": merge_error,
        },
        status_code=status_code,
    )


@router.get("/dashboard/live", response_class=HTMLResponse)
async def live_fragment(
    request: Request, state: StateDep, after: Annotated[int, Query(ge=0)] = 0
) -> Response:
    """The counters, the queue and the operators, for the page's script to swap in; `after`
    is the newest event the page has received (figures older than it are not served)."""
    now = utcnow()
    position = state.feed.last
    async with state.unit_of_work(read_only=True) as session:
        actor = await page_actor(request, state, session)
    if actor is None:
        return Response(status_code=401)
    try:
        live = await service.shared_live_figures(
            actor=actor,
            now=now,
            shared=_shared(request),
            position=position,
            after=after,
            open_session=partial(state.unit_of_work, read_only=True),
        )
    except NotAllowed:
        return Response(status_code=403)
    # The fragment depends on the figures and the language only: rendered once for each.
    rendered = _rendered(request)
    if rendered.live is not live:
        rendered.live, rendered.html = live, {}
    language = language_of(request)
    if (html := rendered.html.get(language)) is not None:
        return HTMLResponse(html)
    response = templates.TemplateResponse(
        request,
        "dashboard/live.html",
        # `now` for the longest wait on hold, which the page then counts up by itself; a
        # fragment served again within the second is that much behind.
        {"live": live, "open_query": OPEN_QUERY, "tz": state.site.timezone, "now": now},
    )
    rendered.html[language] = bytes(response.body)
    return response


@dataclass
class _Rendered:
    """The live fragment rendered from the shared figures, per language."""

    live: service.Live | None = None
    html: dict[str, bytes] = field(default_factory=dict)


def _shared(request: Request) -> service.SharedLive:
    """This app's shared live figures (one per process, made on first use)."""
    shared = getattr(request.app.state, "dashboard_live", None)
    if shared is None:
        shared = request.app.state.dashboard_live = service.SharedLive()
    return shared


def _rendered(request: Request) -> _Rendered:
    rendered = getattr(request.app.state, "dashboard_live_html", None)
    if rendered is None:
        rendered = request.app.state.dashboard_live_html = _Rendered()
    return rendered


@router.get("/dashboard/charts", response_class=HTMLResponse)
async def charts_fragment(request: Request, state: StateDep) -> Response:
    """Today's charts, for the page's script to swap in when cases change."""
    now = utcnow()
    async with state.unit_of_work(read_only=True) as session:
        actor = await page_actor(request, state, session)
        if actor is None:
            return Response(status_code=401)
        try:
            charts = await service.charts(session, actor=actor, now=now)
        except NotAllowed:
            return Response(status_code=403)
        categories = await category_names(session, language=language_of(request))
    return templates.TemplateResponse(
        request,
        "dashboard/charts.html",
        {"charts": charts, "categories": categories, "channels": CHANNEL_LABELS_VI},
    )


@router.post("/dashboard/merge")
async def merge_cluster(
    request: Request,
    state: StateDep,
    primary: Annotated[str, Form()] = "",
    duplicates: Annotated[list[str] | None, Form()] = None,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Merge a cluster into its suggested primary (the API's duplicates.merge rule)."""
    if not csrf_matches(request, csrf):
        return RedirectResponse("/login", status_code=303)
    try:
        async with state.unit_of_work() as session:
            actor = await page_actor(request, state, session)
            if actor is None:
                return RedirectResponse("/login", status_code=303)
            result = await merge.merge_cases(
                session, actor=actor, primary_code=primary, duplicate_codes=duplicates or []
            )
            code = result.primary.code
    except DomainError as exc:
        # Nothing was saved (the unit of work rolled back): the page shows why.
        return await _page(request, state, merge_error=exc.detail, status_code=exc.status)
    return RedirectResponse(f"/dashboard?merged={code}#duplicates", status_code=303)
