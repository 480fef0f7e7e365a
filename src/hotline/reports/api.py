"""Reports."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from hotline.auth.service import Actor
from hotline.reports import service
from hotline.web.deps import current_actor, get_state
from hotline.web.state import AppState

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])


@router.get("/summary")
async def summary(
    actor: Annotated[Actor, Depends(current_actor)],
    state: Annotated[AppState, Depends(get_state)],
    date_from: Annotated[date, Query(alias="from")],
    date_to: Annotated[date, Query(alias="to")],
) -> dict[str, Any]:
    async with state.unit_of_work(read_only=True) as session:
        return await service.read_summary(
            session, actor=actor, date_from=date_from, date_to=date_to
        )
