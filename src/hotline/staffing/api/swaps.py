"""Swap requests and their decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from hotline.staffing import swap_answers, swaps
from hotline.staffing.api.common import ActorDep, StateDep, StrictId
from hotline.staffing.models import ShiftSwap
from hotline.staffing.paging import DEFAULT_LIMIT, MAX_LIMIT
from hotline.types import Id

router = APIRouter(prefix="/api/v1", tags=["staffing"])


class SwapIn(BaseModel):
    to_user_id: StrictId
    reason: str = Field(default="", max_length=500)


class SwapOut(BaseModel):
    id: int
    entry_id: int
    requested_by: int  # the place's holder
    filed_by: int | None  # who sent the request: the holder, or a supervisor for them
    to_user_id: int
    reason: str
    status: str
    created_at: datetime
    answered_by: int | None  # the colleague who accepted or declined it
    answered_at: datetime | None
    decided_by: int | None
    decided_at: datetime | None

    @classmethod
    def of(cls, s: ShiftSwap) -> SwapOut:
        return cls(
            id=s.id,
            entry_id=s.entry_id,
            requested_by=s.requested_by,
            filed_by=s.filed_by,
            to_user_id=s.to_user_id,
            reason=s.reason,
            status=s.status.value,
            created_at=s.created_at,
            answered_by=s.answered_by,
            answered_at=s.answered_at,
            decided_by=s.decided_by,
            decided_at=s.decided_at,
        )


@router.post("/roster/{entry_id}/swaps", response_model=SwapOut, status_code=201)
async def request_swap(entry_id: Id, body: SwapIn, actor: ActorDep, state: StateDep) -> SwapOut:
    async with state.unit_of_work() as session:
        swap = await swaps.request_swap(
            session, actor=actor, entry_id=entry_id, to_user_id=body.to_user_id, reason=body.reason
        )
        return SwapOut.of(swap)


class SwapPageOut(BaseModel):
    items: list[SwapOut]
    next_cursor: str | None


@router.get("/swaps", response_model=SwapPageOut)
async def list_swaps(
    actor: ActorDep,
    state: StateDep,
    status: Annotated[str | None, Query(max_length=10)] = None,
    to_me: bool = False,
    cursor: Annotated[str | None, Query(max_length=80)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> SwapPageOut:
    """Swap requests, newest first, a page at a time (`next_cursor` for the next);
    `to_me=true`: those naming the caller as the colleague to take the place."""
    async with state.unit_of_work(read_only=True) as session:
        page = await swaps.list_swaps(
            session, actor=actor, status=status, to_me=to_me, cursor=cursor, limit=limit
        )
        return SwapPageOut(items=[SwapOut.of(s) for s in page.items], next_cursor=page.next_cursor)


@router.post("/swaps/{swap_id}/withdraw", response_model=SwapOut)
async def withdraw_swap(swap_id: Id, actor: ActorDep, state: StateDep) -> SwapOut:
    """The place's holder, or whoever filed the request, takes it back while it waits."""
    async with state.unit_of_work() as session:
        return SwapOut.of(await swaps.withdraw_swap(session, actor=actor, swap_id=swap_id))


@router.post("/swaps/{swap_id}/accept", response_model=SwapOut)
async def accept_swap(swap_id: Id, actor: ActorDep, state: StateDep) -> SwapOut:
    """The colleague named takes the place: the request then waits for a supervisor."""
    async with state.unit_of_work() as session:
        swap = await swap_answers.answer_swap(session, actor=actor, swap_id=swap_id, accept=True)
        return SwapOut.of(swap)


@router.post("/swaps/{swap_id}/decline", response_model=SwapOut)
async def decline_swap(swap_id: Id, actor: ActorDep, state: StateDep) -> SwapOut:
    """The colleague named turns the request down: it ends there."""
    async with state.unit_of_work() as session:
        swap = await swap_answers.answer_swap(session, actor=actor, swap_id=swap_id, accept=False)
        return SwapOut.of(swap)


@router.post("/swaps/{swap_id}/{verb}", response_model=SwapOut)
async def decide_swap(
    swap_id: Id, verb: Literal["approve", "reject"], actor: ActorDep, state: StateDep
) -> SwapOut:
    async with state.unit_of_work() as session:
        swap = await swaps.decide_swap(
            session, actor=actor, swap_id=swap_id, approve=verb == "approve"
        )
        return SwapOut.of(swap)
