"""The administrators' audit trail as JSON: `GET /api/v1/admin/changes`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from hotline.auth import audit
from hotline.auth import service as auth
from hotline.auth.service import Actor
from hotline.web.deps import current_actor, get_state
from hotline.web.state import AppState

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])
ActorDep = Annotated[Actor, Depends(current_actor)]
StateDep = Annotated[AppState, Depends(get_state)]


class AdminChangeOut(BaseModel):
    id: int
    at: datetime
    user_id: int | None  # None: made from the command line (`hotline ...`)
    user_name: str | None
    kind: str  # user | category | unit | triage_model
    key: str  # the user's id, the category's or unit's code, the model's version
    action: str
    before: dict[str, object] | None
    after: dict[str, object] | None


@router.get("/changes", response_model=list[AdminChangeOut])
async def list_changes(
    actor: ActorDep,
    state: StateDep,
    kind: Annotated[str | None, Query(max_length=20)] = None,
    key: Annotated[str | None, Query(max_length=80)] = None,
    limit: Annotated[int, Query(ge=1, le=audit.MAX_LIMIT)] = 100,
) -> list[AdminChangeOut]:
    """Who changed accounts, categories, units and the active triage model, newest first:
    of one object (`kind` and `key`), one kind, or all (administrators; a kind alone for
    whoever may see that kind of object)."""
    async with state.unit_of_work(read_only=True) as session:
        rows = await audit.list_changes(session, actor=actor, kind=kind, key=key, limit=limit)
        names = await auth.display_names(session, {r.user_id for r in rows if r.user_id})
    return [
        AdminChangeOut(
            id=r.id,
            at=r.at,
            user_id=r.user_id,
            user_name=names.get(r.user_id) if r.user_id else None,
            kind=r.kind,
            key=r.key,
            action=r.action,
            before=r.before,
            after=r.after,
        )
        for r in rows
    ]
