"""Categories (`/admin/categories`: deadline hours, in use) and the tree of units
(`/admin/units`), through directory.manage."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Actor
from hotline.directory import manage
from hotline.directory import service as directory
from hotline.errors import InvalidInput
from hotline.web.deps import get_state
from hotline.web.forms import Errors, PageForm, Workspace, last_by_key, trails_by_key
from hotline.web.i18n import language_of
from hotline.web.state import AppState

ws = Workspace(__file__)
router = APIRouter(include_in_schema=False)
StateDep = Annotated[AppState, Depends(get_state)]


class CategoryForm(PageForm):
    forward_hours: str = ""
    active: str = ""


@router.get("/admin/categories", response_class=HTMLResponse)
async def categories(request: Request, state: StateDep) -> Response:
    return await _categories_page(request, state)


async def _categories_page(
    request: Request,
    state: AppState,
    *,
    failed: str | None = None,
    errors: Errors | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    async def load(session: AsyncSession, actor: Actor) -> dict[str, Any]:
        rows = await manage.categories_to_manage(session, actor=actor)
        return {
            "rows": rows,
            "failed": failed,
            "last": await last_by_key(session, actor, "category"),
            "trails": await trails_by_key(session, actor, "category"),
        }

    return await ws.page(
        request,
        state,
        "admin/categories.html",
        load,
        errors=errors,
        typed=typed,
        status_code=400 if errors else 200,
    )


@router.post("/admin/categories/{code}", response_class=HTMLResponse)
async def update_category(
    request: Request, code: str, state: StateDep, form: Annotated[CategoryForm, Form()]
) -> Response:
    """One row of the table: its deadline and whether it is in use (every refusal shows
    next to the row's deadline, the only field typed)."""

    async def change(session: AsyncSession, actor: Actor) -> str:
        if not form.forward_hours.strip().isdigit():
            raise InvalidInput("Thời hạn là số giờ", field="forward_hours")
        await manage.update_category(
            session,
            actor=actor,
            code=code,
            forward_hours=int(form.forward_hours),
            active=form.active == "1",
        )
        return f"/admin/categories?done={code}#cat-{code}"

    async def again(errors: Errors, _status: int) -> Response:
        return await _categories_page(
            request, state, failed=code, errors=errors, typed=form.typed()
        )

    return await ws.submit(
        request,
        state,
        form,
        change,
        again=again,
        fallback="forward_hours",
        fields=frozenset({"forward_hours"}),
    )


@router.get("/admin/units", response_class=HTMLResponse)
async def units(request: Request, state: StateDep) -> Response:
    async def load(session: AsyncSession, actor: Actor) -> dict[str, Any]:
        tree = await manage.unit_tree(session, actor=actor)
        return {
            "tree": tree,
            "category_names": await directory.category_names(
                session, language=language_of(request)
            ),
            "last": await last_by_key(session, actor, "unit"),
            "trails": await trails_by_key(session, actor, "unit"),
        }

    return await ws.page(request, state, "admin/units.html", load)
