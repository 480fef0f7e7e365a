"""JSON routes for duplicates: suggestions, clusters for supervisors, merge in one action."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from hotline.auth.service import Actor
from hotline.cases.access import get_case_for
from hotline.db import utcnow
from hotline.duplicates import clusters, merge, service
from hotline.duplicates.schemas import (
    ClusterOut,
    ClustersOut,
    MergeIn,
    MergeOut,
    SuggestIn,
    SuggestionOut,
)
from hotline.web.deps import current_actor, get_state
from hotline.web.state import AppState

router = APIRouter(prefix="/api/v1", tags=["duplicates"])
ActorDep = Annotated[Actor, Depends(current_actor)]
StateDep = Annotated[AppState, Depends(get_state)]


def _aware(state: AppState, at: datetime | None) -> datetime | None:
    """Times without an offset are the site's local time, as on the operators' screens."""
    if at is None or at.tzinfo is not None:
        return at
    return at.replace(tzinfo=state.site.timezone)


@router.post("/cases/duplicates/suggest", response_model=list[SuggestionOut])
async def suggest(body: SuggestIn, actor: ActorDep, state: StateDep) -> list[SuggestionOut]:
    """Likely duplicates of a request being typed, before it is saved."""
    async with state.unit_of_work() as session:
        found = await service.suggest_before_saving(
            session,
            text=body.text,
            ward_code=body.ward_code,
            category_code=body.category,
            address=body.address,
            lat=body.lat,
            long=body.long,
            limit=body.limit,
            actor=actor,
        )
        return [SuggestionOut.model_validate(s) for s in found]


@router.get("/cases/{code}/duplicates", response_model=list[SuggestionOut])
async def case_duplicates(
    code: str,
    actor: ActorDep,
    state: StateDep,
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
) -> list[SuggestionOut]:
    """Likely duplicates of a recorded case, among the cases the actor may see."""
    async with state.unit_of_work(read_only=True) as session:
        case = await get_case_for(session, actor, code)
        found = await service.suggest_for_case(session, case=case, limit=limit, actor=actor)
        return [SuggestionOut.model_validate(s) for s in found]


@router.get("/duplicates/clusters", response_model=ClustersOut)
async def list_clusters(
    actor: ActorDep,
    state: StateDep,
    date_from: Annotated[datetime | None, Query(alias="from")] = None,
    date_to: Annotated[datetime | None, Query(alias="to")] = None,
    ward: Annotated[str | None, Query(max_length=8)] = None,
    category: Annotated[str | None, Query(max_length=40)] = None,
) -> ClustersOut:
    """Groups of open cases that look like one event; supervisors and admins only."""
    until = _aware(state, date_to) or utcnow()
    since = _aware(state, date_from) or until - timedelta(hours=state.site.duplicate_window_hours)
    async with state.unit_of_work(read_only=True) as session:
        found = await clusters.clusters_for(
            session,
            actor=actor,
            since=since,
            until=until,
            ward_code=ward,
            category_code=category,
        )
        return ClustersOut(
            items=[ClusterOut.of(c) for c in found.items],
            cases_read=found.cases_read,
            truncated=found.truncated,
        )


@router.post("/duplicates/merge", response_model=MergeOut)
async def merge_cases(body: MergeIn, actor: ActorDep, state: StateDep) -> MergeOut:
    """Mark all listed cases as duplicates of the primary in one transaction, or none."""
    async with state.unit_of_work() as session:
        result = await merge.merge_cases(
            session,
            actor=actor,
            primary_code=body.primary,
            duplicate_codes=body.duplicates,
            note=body.note,
            expected_version=body.expected_version,
        )
        return MergeOut(
            primary=result.primary.code,
            merged=[c.code for c in result.merged],
            repointed=[c.code for c in result.repointed],
            notifications=result.notifications,
        )
