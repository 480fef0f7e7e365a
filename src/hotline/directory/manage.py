"""The administrators' verbs on the directory: editing a category, creating a unit, and
the lists they manage (inactive entries included). Each change goes on the audit trail
(auth/audit.py) in its transaction; the rules every caller shares stay in service.py."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.audit import record_change
from hotline.auth.permissions import Permission, require
from hotline.auth.service import Actor
from hotline.directory.models import Category, Group, Unit, UnitCategory, UnitType, UnitWard, Ward
from hotline.directory.service import create_unit, forget_confirmed, list_categories, list_units
from hotline.errors import InvalidInput, NotFound
from hotline.messages import msg


async def update_category(
    session: AsyncSession,
    *,
    actor: Actor,
    code: str,
    name_vi: str | None = None,
    name_en: str | None = None,
    group: str | None = None,
    default_unit_type: str | None = None,
    forward_hours: int | None = None,
    active: bool | None = None,
) -> Category:
    """Administrators edit a category; codes never change because reports key on them. A
    change is audited; saving the settings as they are changes nothing."""
    require(actor, Permission.MANAGE_DIRECTORY, "Chỉ quản trị viên được sửa lĩnh vực")
    category = await session.get(Category, code)
    if category is None:
        raise NotFound(msg("Không có lĩnh vực mã {code}", code=code), field="code")
    before = _category_settings(category)
    if name_vi is not None:
        category.name_vi = name_vi
    if name_en is not None:
        category.name_en = name_en
    if group is not None:
        try:
            category.group = Group(group)
        except ValueError:
            raise InvalidInput(
                msg("Nhóm không hợp lệ: {group}", group=group), field="group"
            ) from None
    if default_unit_type is not None:
        try:
            category.default_unit_type = UnitType(default_unit_type)
        except ValueError:
            raise InvalidInput(
                msg("Loại đơn vị không hợp lệ: {unit_type}", unit_type=default_unit_type),
                field="default_unit_type",
            ) from None
    if forward_hours is not None:
        if forward_hours < 1:
            raise InvalidInput("Thời hạn phải từ 1 giờ trở lên", field="forward_hours")
        category.forward_hours = forward_hours
    if active is not None:
        category.active = active
        forget_confirmed(session, "category", code)
    after = _category_settings(category)
    if after != before:
        record_change(
            session,
            actor=actor,
            kind="category",
            key=code,
            action="update",
            before=before,
            after=after,
        )
    await session.flush()
    return category


def _category_settings(category: Category) -> dict[str, object]:
    return {
        "name_vi": category.name_vi,
        "name_en": category.name_en,
        "group": category.group.value,
        "default_unit_type": category.default_unit_type.value,
        "forward_hours": category.forward_hours,
        "active": category.active,
    }


async def add_unit(
    session: AsyncSession,
    *,
    actor: Actor,
    code: str,
    name: str,
    unit_type: UnitType | str,
    parent_id: int | None = None,
    province_code: str | None = None,
    ward_codes: Iterable[str] = (),
    categories: Iterable[str] = (),
    phone: str | None = None,
) -> Unit:
    """Administrators create a unit (`create_unit`'s rules); audited."""
    require(actor, Permission.MANAGE_DIRECTORY, "Chỉ quản trị viên được tạo đơn vị")
    wards, cats = list(dict.fromkeys(ward_codes)), list(dict.fromkeys(categories))
    unit = await create_unit(
        session,
        code=code,
        name=name,
        unit_type=unit_type,
        parent_id=parent_id,
        province_code=province_code,
        ward_codes=wards,
        categories=cats,
        phone=phone,
    )
    settings = {
        "name": unit.name,
        "type": unit.type.value,
        "parent_id": unit.parent_id,
        "province_code": unit.province_code,
        "phone": unit.phone,
        "wards": wards,
        "categories": cats,
    }
    record_change(session, actor=actor, kind="unit", key=code, action="create", after=settings)
    await session.flush()
    return unit


async def categories_to_manage(session: AsyncSession, *, actor: Actor) -> list[Category]:
    """Every category, inactive ones included, for those who edit them (administrators)."""
    require(actor, Permission.MANAGE_DIRECTORY)
    return await list_categories(session, include_inactive=True)


@dataclass
class UnitNode:
    """A unit in the tree of units, with the wards and categories it covers."""

    unit: Unit
    wards: list[tuple[str, str]]  # (code, name), by name
    categories: list[str]  # category codes
    children: list[UnitNode] = dataclasses.field(default_factory=list)


async def unit_tree(session: AsyncSession, *, actor: Actor) -> list[UnitNode]:
    """Every unit (inactive ones included) under its parent, roots first, by code; three
    queries whatever the number of units (administrators)."""
    require(actor, Permission.MANAGE_DIRECTORY)
    units = await list_units(session)
    wards: dict[int, list[tuple[str, str]]] = {}
    rows = await session.execute(
        select(UnitWard.unit_id, Ward.code, Ward.name)
        .join(Ward, Ward.code == UnitWard.ward_code)
        .order_by(Ward.name)
    )
    for unit_id, code, name in rows.all():
        wards.setdefault(unit_id, []).append((code, name))
    cats: dict[int, list[str]] = {}
    for unit_id, code in (
        await session.execute(
            select(UnitCategory.unit_id, UnitCategory.category_code).order_by(
                UnitCategory.category_code
            )
        )
    ).all():
        cats.setdefault(unit_id, []).append(code)
    nodes = {u.id: UnitNode(u, wards.get(u.id, []), cats.get(u.id, [])) for u in units}
    roots: list[UnitNode] = []
    for u in units:
        parent = nodes.get(u.parent_id) if u.parent_id is not None else None
        (parent.children if parent is not None else roots).append(nodes[u.id])
    return roots
