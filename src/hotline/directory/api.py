"""Places, categories and units."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from hotline.auth.service import Actor
from hotline.directory import manage, service
from hotline.directory.models import Category, Unit
from hotline.types import Int32
from hotline.web.deps import current_actor, get_state
from hotline.web.state import AppState

router = APIRouter(prefix="/api/v1", tags=["directory"])
ActorDep = Annotated[Actor, Depends(current_actor)]
StateDep = Annotated[AppState, Depends(get_state)]


class CategoryOut(BaseModel):
    code: str
    name_vi: str
    name_en: str
    group: str
    default_unit_type: str
    forward_hours: Int32
    active: bool


class CategoryPatch(BaseModel):
    name_vi: str | None = Field(default=None, max_length=120)
    name_en: str | None = Field(default=None, max_length=120)
    group: str | None = None
    default_unit_type: str | None = None
    forward_hours: Int32 | None = None
    active: bool | None = None


class UnitOut(BaseModel):
    id: int
    code: str
    name: str
    type: str
    parent_id: int | None
    province_code: str | None
    phone: str | None
    active: bool


class UnitIn(BaseModel):
    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=200)
    type: str
    parent_id: Int32 | None = None
    province_code: str | None = None
    ward_codes: list[str] = []
    categories: list[str] = []
    phone: str | None = None


def _category(c: Category) -> CategoryOut:
    return CategoryOut(
        code=c.code,
        name_vi=c.name_vi,
        name_en=c.name_en,
        group=c.group.value,
        default_unit_type=c.default_unit_type.value,
        forward_hours=c.forward_hours,
        active=c.active,
    )


def _unit(u: Unit) -> UnitOut:
    return UnitOut(
        id=u.id,
        code=u.code,
        name=u.name,
        type=u.type.value,
        parent_id=u.parent_id,
        province_code=u.province_code,
        phone=u.phone,
        active=u.active,
    )


@router.get("/categories", response_model=list[CategoryOut])
async def categories(actor: ActorDep, state: StateDep) -> list[CategoryOut]:
    async with state.unit_of_work(read_only=True) as session:
        return [_category(c) for c in await service.categories_for(session, actor=actor)]


@router.patch("/categories/{code}", response_model=CategoryOut)
async def patch_category(
    code: str, body: CategoryPatch, actor: ActorDep, state: StateDep
) -> CategoryOut:
    async with state.unit_of_work() as session:
        c = await manage.update_category(
            session, actor=actor, code=code, **body.model_dump(exclude_unset=True)
        )
        return _category(c)


@router.get("/units", response_model=list[UnitOut])
async def units(actor: ActorDep, state: StateDep) -> list[UnitOut]:
    async with state.unit_of_work(read_only=True) as session:
        return [_unit(u) for u in await service.list_units(session)]


@router.post("/units", response_model=UnitOut, status_code=201)
async def create_unit(body: UnitIn, actor: ActorDep, state: StateDep) -> UnitOut:
    async with state.unit_of_work() as session:
        u = await manage.add_unit(
            session,
            actor=actor,
            code=body.code,
            name=body.name,
            unit_type=body.type,
            parent_id=body.parent_id,
            province_code=body.province_code,
            ward_codes=body.ward_codes,
            categories=body.categories,
            phone=body.phone,
        )
        return _unit(u)


@router.get("/units/suggest", response_model=list[UnitOut])
async def suggest(
    actor: ActorDep, state: StateDep, category: str, ward: str | None = None
) -> list[UnitOut]:
    async with state.unit_of_work(read_only=True) as session:
        return [
            _unit(u)
            for u in await service.suggest_units(session, category_code=category, ward_code=ward)
        ]


@router.get("/places/provinces")
async def provinces(actor: ActorDep, state: StateDep) -> list[dict[str, str]]:
    async with state.unit_of_work(read_only=True) as session:
        return [
            {"code": p.code, "name": p.name, "division_type": p.division_type}
            for p in await service.list_provinces(session)
        ]


@router.get("/places/wards")
async def wards(
    actor: ActorDep,
    state: StateDep,
    province: str | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, str]]:
    async with state.unit_of_work(read_only=True) as session:
        return [
            {
                "code": w.code,
                "name": w.name,
                "division_type": w.division_type,
                "province_code": w.province_code,
            }
            for w in await service.list_wards(session, province_code=province, q=q, limit=limit)
        ]
