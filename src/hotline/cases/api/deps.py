"""What the case API's route modules share: the request's actor and state, and the case
as an action's answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Actor
from hotline.cases import medical
from hotline.cases.models import Case
from hotline.cases.schemas import CaseOut
from hotline.web.deps import current_actor, get_state
from hotline.web.state import AppState

ActorDep = Annotated[Actor, Depends(current_actor)]
StateDep = Annotated[AppState, Depends(get_state)]


async def case_out(
    session: AsyncSession, actor: Actor, case: Case, duplicate_of: str | None = None
) -> CaseOut:
    """An action's answer: the case as the actor may read it (cases/medical.py)."""
    return CaseOut.of(await medical.shown_case(session, actor, case), duplicate_of)
