"""JSON routes for triage: suggest for a text, list model versions, activate one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from hotline.auth.service import Actor
from hotline.triage import service
from hotline.triage.schemas import ModelOut, TriageIn, TriageOut
from hotline.types import Int32
from hotline.web.deps import current_actor, get_state
from hotline.web.errors import gettext_of
from hotline.web.i18n import language_of
from hotline.web.state import AppState

router = APIRouter(prefix="/api/v1/triage", tags=["triage"])
ActorDep = Annotated[Actor, Depends(current_actor)]
StateDep = Annotated[AppState, Depends(get_state)]


@router.post("", response_model=TriageOut)
async def triage(request: Request, body: TriageIn, actor: ActorDep, state: StateDep) -> TriageOut:
    """A suggestion only: the operator decides the category and urgency. Names and labels
    follow the `lang` cookie, as problem details do."""
    language = language_of(request)
    async with state.unit_of_work() as session:
        found = await service.classify(session, actor=actor, text=body.text, language=language)
        return TriageOut.of(found, gettext_of(request))


@router.get("/models", response_model=list[ModelOut])
async def list_models(actor: ActorDep, state: StateDep) -> list[ModelOut]:
    async with state.unit_of_work(read_only=True) as session:
        return [ModelOut.of(m) for m in await service.list_models(session, actor=actor)]


@router.post("/models/{version}/activate", response_model=ModelOut)
async def activate(version: Int32, actor: ActorDep, state: StateDep) -> ModelOut:
    async with state.unit_of_work() as session:
        return ModelOut.of(await service.activate_model(session, actor=actor, version=version))
