"""The staffing page's swap forms (`/staffing/swaps/{id}/{verb}`): the colleague a swap
names accepts or declines it (swap_answers.answer_swap), a supervisor approves an accepted
one or rejects it (swaps.decide_swap), the holder or whoever filed it withdraws it
(swaps.withdraw_swap). Each calls the service the API calls; see board._act."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Actor
from hotline.staffing import service, swaps
from hotline.staffing.pages.board import FormText, StateDep, _act
from hotline.types import Id

router = APIRouter(include_in_schema=False)


@router.post("/staffing/swaps/{swap_id}/{verb}", response_class=HTMLResponse)
async def swap_step(
    request: Request,
    state: StateDep,
    swap_id: Id,
    verb: Literal["approve", "reject", "withdraw", "accept", "decline"],
    csrf: FormText = "",
) -> Response:
    """One step of a swap, by whoever may take it (the service refuses anyone else)."""

    async def action(session: AsyncSession, actor: Actor) -> None:
        if verb == "withdraw":
            await swaps.withdraw_swap(session, actor=actor, swap_id=swap_id)
        elif verb in ("accept", "decline"):
            await service.answer_swap(
                session, actor=actor, swap_id=swap_id, accept=verb == "accept"
            )
        else:
            await service.decide_swap(
                session, actor=actor, swap_id=swap_id, approve=verb == "approve"
            )

    return await _act(
        request, state, csrf=csrf, key=f"swap-{swap_id}", action=action, done=f"swap_{verb}"
    )
