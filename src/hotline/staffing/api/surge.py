"""Surge mode and the notices sent when it starts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from hotline.staffing import alerts, surge
from hotline.staffing.api.common import ActorDep, StateDep
from hotline.staffing.paging import DEFAULT_LIMIT, MAX_LIMIT

router = APIRouter(prefix="/api/v1", tags=["staffing"])


class SurgeChangeOut(BaseModel):
    at: datetime
    active: bool
    manual: bool
    user_id: int | None
    reason: str
    figures: dict[str, Any]


class SurgeOut(BaseModel):
    active: bool
    manual: bool
    since: datetime | None
    figures: dict[str, Any]
    # In surge mode, the wait a newcomer can expect (what chat acknowledgements state).
    expected_wait_seconds: int | None
    # Off by a supervisor's switch: the worker does not enter surge mode before this.
    held_until: datetime | None
    history: list[SurgeChangeOut]


class SurgeIn(BaseModel):
    active: bool
    reason: str = Field(default="", max_length=200)


def _surge_out(view: surge.SurgeView) -> SurgeOut:
    return SurgeOut(
        active=view.active,
        manual=view.manual,
        since=view.since,
        figures=view.figures.as_json(),
        expected_wait_seconds=view.expected_wait_seconds,
        held_until=view.held_until,
        history=[
            SurgeChangeOut(
                at=c.at,
                active=c.active,
                manual=c.manual,
                user_id=c.user_id,
                reason=c.reason,
                figures=c.figures,
            )
            for c in view.history
        ],
    )


@router.get("/surge", response_model=SurgeOut)
async def read_surge(actor: ActorDep, state: StateDep) -> SurgeOut:
    """Surge mode now, the queue's figures, and each entry and exit with its figures."""
    rules = surge.SurgeRules.from_settings(state.settings)
    async with state.unit_of_work(read_only=True) as session:
        return _surge_out(await surge.read_surge(session, actor=actor, rules=rules))


@router.put("/surge", response_model=SurgeOut)
async def switch_surge(body: SurgeIn, actor: ActorDep, state: StateDep) -> SurgeOut:
    """A supervisor's switch: on holds until switched off; off holds for a while (also
    when it was off already). The same switch sent again changes nothing: same answer."""
    rules = surge.SurgeRules.from_settings(state.settings)
    async with state.unit_of_work() as session:
        await surge.switch(
            session, actor=actor, active=body.active, reason=body.reason, rules=rules
        )
        return _surge_out(await surge.read_surge(session, actor=actor, rules=rules))


class NoticeOut(BaseModel):
    id: int
    at: datetime
    surge_change_id: int
    user_id: int | None
    volunteer_id: int | None
    text: str
    delivery: str
    message_id: int | None


class NoticePageOut(BaseModel):
    items: list[NoticeOut]
    next_cursor: str | None


@router.get("/staffing/notices", response_model=NoticePageOut)
async def list_notices(
    actor: ActorDep,
    state: StateDep,
    cursor: Annotated[str | None, Query(max_length=80)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> NoticePageOut:
    """Surge alerts, newest first, a page at a time: supervisors see every notice, anyone
    else their own."""
    async with state.unit_of_work(read_only=True) as session:
        page = await alerts.list_notices(session, actor=actor, cursor=cursor, limit=limit)
        return NoticePageOut(
            items=[
                NoticeOut(
                    id=n.id,
                    at=n.at,
                    surge_change_id=n.surge_change_id,
                    user_id=n.user_id,
                    volunteer_id=n.volunteer_id,
                    text=n.text,
                    delivery=n.delivery.value,
                    message_id=n.message_id,
                )
                for n in page.items
            ],
            next_cursor=page.next_cursor,
        )
