"""The phone line's settings as the line uses them (`/admin/phone`)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth import service as auth
from hotline.auth.service import Actor
from hotline.phoneconfig import service as phoneconfig
from hotline.phoneconfig.defaults import default_config
from hotline.phoneconfig.pages.edit import action_of
from hotline.web.deps import get_state
from hotline.web.forms import Workspace
from hotline.web.state import AppState

ws = Workspace(__file__)
router = APIRouter(include_in_schema=False)
StateDep = Annotated[AppState, Depends(get_state)]


@router.get("/admin/phone", response_class=HTMLResponse)
async def phone(request: Request, state: StateDep) -> Response:
    """The defaults with the stored changes laid over them, each opening to its form, and the
    latest changes with who made them."""

    async def load(session: AsyncSession, actor: Actor) -> dict[str, Any]:
        changes = await phoneconfig.list_changes(session, actor=actor, limit=50)
        loaded = await phoneconfig.load_config(session, defaults=default_config(state.settings))
        names = await auth.display_names(session, {c.user_id for c in changes if c.user_id})
        sections = []
        for kind, (attr, _schema, key_field) in phoneconfig.KINDS.items():
            items = [
                {
                    "key": getattr(o, key_field),
                    "version": loaded.versions.get((kind, getattr(o, key_field)), 0),
                    "data": json.dumps(o.model_dump(mode="json"), ensure_ascii=False, indent=2),
                }
                for o in getattr(loaded.config, attr)
            ]
            sections.append({"kind": kind, "path": attr, "entries": items})
        return {
            "version": loaded.version,
            "sections": sections,
            "changes": [(c, action_of(c)) for c in changes],
            "names": names,
            "paths": {kind: attr for kind, (attr, _s, _k) in phoneconfig.KINDS.items()},
        }

    return await ws.page(request, state, "phoneconfig/phone.html", load)
