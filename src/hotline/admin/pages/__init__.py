"""The administration pages (`/admin`): the index, accounts and their phones' SIP logins
(`users.py`), categories and units (`directory.py`), triage model versions (`triage.py`).
The knowledge base's editor and the phone configuration are pages of their own domains
(knowledge/pages/, phoneconfig/pages/) in the same workspace (web/forms.py).

Thin routes: every read and change goes through the service the JSON API and the CLI call,
which checks the permission; a refusal is shown as it comes (403 page, or next to the
control it concerns).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.admin.pages import directory, saved_replies, triage, users
from hotline.auth.permissions import Permission, allows
from hotline.auth.service import Actor
from hotline.web.deps import get_state
from hotline.web.forms import Workspace
from hotline.web.state import AppState

ws = Workspace(__file__)
router = APIRouter(include_in_schema=False)
StateDep = Annotated[AppState, Depends(get_state)]


@router.get("/admin", response_class=HTMLResponse)
async def index(request: Request, state: StateDep) -> Response:
    async def load(_session: AsyncSession, actor: Actor) -> dict[str, Any]:
        # Which links to offer (each page still asks its service: a link is not a permission).
        links = {
            "users": allows(actor, Permission.VIEW_USERS),
            "directory": allows(actor, Permission.MANAGE_DIRECTORY),
            "triage": allows(actor, Permission.VIEW_TRIAGE_MODELS),
            "knowledge": allows(actor, Permission.EDIT_KNOWLEDGE),
            "saved_replies": allows(actor, Permission.EDIT_KNOWLEDGE),
            "phone": allows(actor, Permission.CONFIGURE_PHONE),
        }
        return {"links": links}

    return await ws.page(request, state, "admin/index.html", load)


for module in (users, directory, triage, saved_replies):
    router.include_router(module.router)
