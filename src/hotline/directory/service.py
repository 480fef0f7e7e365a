"""Places, categories and units, and the routing rule "category + ward → unit(s)"."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.permissions import Permission, allows
from hotline.auth.service import Actor
from hotline.directory.defaults import (
    DEFAULT_CATEGORIES,
    PROVINCE_UNITS,
    WARD_COMMITTEE_CATEGORIES,
)
from hotline.directory.models import (
    Category,
    Province,
    Unit,
    UnitCategory,
    UnitType,
    UnitWard,
    Ward,
)
from hotline.errors import Conflict, InvalidInput, NotFound
from hotline.messages import msg
from hotline.site import site_of
from hotline.text import fold


def province_code_str(code: Any) -> str:
    """Official two-digit province code ("01" for Hà Nội); the package gives an int enum."""
    return f"{int(getattr(code, 'value', code)):02d}"


def ward_code_str(code: Any) -> str:
    """Official five-digit ward code ("00004")."""
    return f"{int(getattr(code, 'value', code)):05d}"


async def load_places(session: AsyncSession) -> int:
    """Load the 34 provinces and 3,321 wards from `vietnam-provinces` if not loaded yet."""
    from vietnam_provinces import Province as VP
    from vietnam_provinces import Ward as VW

    if await session.scalar(select(func.count()).select_from(Ward)):
        return 0
    session.add_all(
        Province(code=province_code_str(p.code), name=p.name, division_type=p.division_type.value)
        for p in VP.iter_all()
    )
    await session.flush()
    wards = [
        Ward(
            code=ward_code_str(w.code),
            name=w.name,
            division_type=w.division_type.value,
            province_code=province_code_str(w.province_code),
            search_name=fold(w.name),
        )
        for w in VW.iter_all()
    ]
    session.add_all(wards)
    await session.flush()
    return len(wards)


async def ensure_default_categories(session: AsyncSession) -> int:
    """Insert the default categories that are missing; never overwrite an admin's edits."""
    existing = set((await session.scalars(select(Category.code))).all())
    added = 0
    for pos, (code, vi, en, group, unit_type, hours) in enumerate(DEFAULT_CATEGORIES):
        if code in existing:
            continue
        session.add(
            Category(
                code=code,
                name_vi=vi,
                name_en=en,
                group=group,
                default_unit_type=unit_type,
                forward_hours=hours,
                position=pos,
            )
        )
        added += 1
    await session.flush()
    return added


async def ensure_default_units(
    session: AsyncSession, *, province_code: str, ward_codes: Iterable[str] = ()
) -> list[Unit]:
    """Create the province-wide units and one People's Committee per given ward."""
    province = await session.get(Province, province_code)
    if province is None:
        raise InvalidInput(
            msg("Không có tỉnh/thành mã {province_code}", province_code=province_code),
            field="province_code",
        )
    created: list[Unit] = []
    for suffix, name, unit_type, categories in PROVINCE_UNITS:
        code = f"{province_code}-{suffix}"
        if await session.scalar(select(Unit.id).where(Unit.code == code)):
            continue
        created.append(
            await create_unit(
                session,
                code=code,
                name=f"{name} - {province.name}",
                unit_type=unit_type,
                province_code=province_code,
                categories=categories,
            )
        )
    for ward_code in ward_codes:
        ward = await get_ward(session, ward_code)
        code = f"UB-{ward.code}"
        if await session.scalar(select(Unit.id).where(Unit.code == code)):
            continue
        created.append(
            await create_unit(
                session,
                code=code,
                name=f"UBND {ward.name}",
                unit_type=UnitType.WARD_COMMITTEE,
                ward_codes=[ward.code],
                categories=WARD_COMMITTEE_CATEGORIES,
            )
        )
    return created


async def create_unit(
    session: AsyncSession,
    *,
    code: str,
    name: str,
    unit_type: UnitType | str,
    parent_id: int | None = None,
    province_code: str | None = None,
    ward_codes: Iterable[str] = (),
    categories: Iterable[str] = (),
    phone: str | None = None,
) -> Unit:
    """Create a unit with the wards (or whole province) it covers and the categories it handles."""
    try:
        unit_type = UnitType(unit_type)
    except ValueError:
        raise InvalidInput(
            msg("Loại đơn vị không hợp lệ: {unit_type}", unit_type=unit_type), field="type"
        ) from None
    if await session.scalar(select(Unit.id).where(Unit.code == code)):
        raise Conflict(msg("Mã đơn vị đã tồn tại: {code}", code=code), field="code")
    if parent_id is not None and await session.get(Unit, parent_id) is None:
        raise InvalidInput("Đơn vị cấp trên không tồn tại", field="parent_id")
    if province_code is not None and await session.get(Province, province_code) is None:
        raise InvalidInput(
            msg("Không có tỉnh/thành mã {province_code}", province_code=province_code),
            field="province_code",
        )
    unit = Unit(
        code=code,
        name=name,
        type=unit_type,
        parent_id=parent_id,
        province_code=province_code,
        phone=phone,
    )
    session.add(unit)
    await session.flush()
    for ward_code in dict.fromkeys(ward_codes):
        await get_ward(session, ward_code, field="ward_codes")
        session.add(UnitWard(unit_id=unit.id, ward_code=ward_code))
    for category in dict.fromkeys(categories):
        await get_category(session, category, field="categories")
        session.add(UnitCategory(unit_id=unit.id, category_code=category))
    await session.flush()
    return unit


async def get_ward(session: AsyncSession, code: str, *, field: str = "ward_code") -> Ward:
    ward = await session.get(Ward, code)
    if ward is None:
        raise InvalidInput(msg("Không có phường/xã mã {code}", code=code), field=field)
    return ward


async def ward_names(session: AsyncSession, codes: Iterable[str]) -> dict[str, str]:
    """The names of these wards by code, in one query (codes not found are left out)."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    rows = await session.execute(select(Ward.code, Ward.name).where(Ward.code.in_(wanted)))
    return {code: name for code, name in rows.all()}


async def get_category(session: AsyncSession, code: str, *, field: str = "category") -> Category:
    category = await session.get(Category, code)
    if category is None or not category.active:
        raise InvalidInput(msg("Không có lĩnh vực mã {code}", code=code), field=field)
    return category


# Intake checks that the category and ward exist on every request; they almost never change,
# so a confirmed code is remembered per process for a short time. Only confirmations are
# kept: an unknown code is always looked up again. A category deactivated by another process
# may still be accepted here for up to CONFIRMED_TTL seconds.
CONFIRMED_TTL = 30.0
_confirmed: dict[tuple[str, str, str], float] = {}


def _cache_key(session: AsyncSession, kind: str, code: str) -> tuple[str, str, str]:
    return (str(session.get_bind().engine.url), kind, code)


def forget_confirmed(session: AsyncSession, kind: str, code: str) -> None:
    """A code changed (a category taken out of use): this process asks the database again."""
    _confirmed.pop(_cache_key(session, kind, code), None)


def is_confirmed(database: str, kind: str, code: str) -> bool:
    """Whether `check_category`/`check_ward` confirmed this code recently for that database
    (`str(engine.url)`), so a path without a session may rely on it."""
    return _confirmed.get((database, kind, code), 0.0) > time.monotonic()


async def check_ward(session: AsyncSession, code: str, *, field: str = "ward_code") -> None:
    """Raise InvalidInput unless the ward exists (cached confirmations)."""
    key = _cache_key(session, "ward", code)
    if _confirmed.get(key, 0.0) > time.monotonic():
        return
    await get_ward(session, code, field=field)
    _confirmed[key] = time.monotonic() + CONFIRMED_TTL


async def check_category(session: AsyncSession, code: str, *, field: str = "category") -> None:
    """Raise InvalidInput unless the category exists and is active (cached confirmations)."""
    key = _cache_key(session, "category", code)
    if _confirmed.get(key, 0.0) > time.monotonic():
        return
    await get_category(session, code, field=field)
    _confirmed[key] = time.monotonic() + CONFIRMED_TTL


async def get_unit(session: AsyncSession, unit_id: int, *, field: str = "unit_id") -> Unit:
    unit = await session.get(Unit, unit_id)
    if unit is None or not unit.active:
        raise InvalidInput(msg("Không có đơn vị {unit_id}", unit_id=unit_id), field=field)
    return unit


async def get_unit_by_code(session: AsyncSession, code: str) -> Unit:
    unit = await session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise NotFound(msg("Không có đơn vị mã {code}", code=code), field="unit")
    return unit


async def suggest_units(
    session: AsyncSession, *, category_code: str, ward_code: str | None
) -> list[Unit]:
    """Units that handle this category and cover this ward, the most local first.

    A unit covers a ward when the ward is listed for it or when it covers the ward's whole
    province. With no ward, only province-wide units of the site are candidates.
    """
    category = await get_category(session, category_code)
    ward = await get_ward(session, ward_code, field="ward") if ward_code else None
    handles = select(UnitCategory.unit_id).where(UnitCategory.category_code == category.code)
    covers: list[Any] = [Unit.province_code == site_of(session).province_code]
    if ward is not None:
        covers = [
            Unit.id.in_(select(UnitWard.unit_id).where(UnitWard.ward_code == ward.code)),
            Unit.province_code == ward.province_code,
        ]
    units = list(
        (
            await session.scalars(
                select(Unit).where(Unit.active, Unit.id.in_(handles), or_(*covers))
            )
        ).all()
    )

    def rank(u: Unit) -> tuple[int, int, str]:
        local = 0 if u.province_code is None else 1
        default_type = 0 if u.type == category.default_unit_type else 1
        return (local, default_type, u.name)

    return sorted(units, key=rank)


async def list_categories(
    session: AsyncSession, *, include_inactive: bool = False
) -> list[Category]:
    stmt = select(Category).order_by(Category.position, Category.code)
    if not include_inactive:
        stmt = stmt.where(Category.active)
    return list((await session.scalars(stmt)).all())


def category_name(category: Category, language: str) -> str:
    """A category's name in a page's language (web/i18n.py's codes): the English name in
    English where the category has one, else the Vietnamese name."""
    if language == "en" and category.name_en.strip():
        return category.name_en
    return category.name_vi


async def category_names(
    session: AsyncSession, *, language: str, include_inactive: bool = True
) -> dict[str, str]:
    """Every category's name by code in `language` (category_name); inactive ones too
    unless told otherwise, since old cases keep their category."""
    categories = await list_categories(session, include_inactive=include_inactive)
    return {c.code: category_name(c, language) for c in categories}


async def categories_for(session: AsyncSession, *, actor: Actor) -> list[Category]:
    """The categories an actor is shown: the active ones, and inactive ones too for those
    who manage the directory."""
    return await list_categories(
        session, include_inactive=allows(actor, Permission.MANAGE_DIRECTORY)
    )


async def list_units(session: AsyncSession) -> list[Unit]:
    return list((await session.scalars(select(Unit).order_by(Unit.code))).all())


async def unit_coverage(session: AsyncSession, unit_id: int) -> tuple[list[str], list[str]]:
    wards = (
        await session.scalars(select(UnitWard.ward_code).where(UnitWard.unit_id == unit_id))
    ).all()
    cats = (
        await session.scalars(
            select(UnitCategory.category_code).where(UnitCategory.unit_id == unit_id)
        )
    ).all()
    return list(wards), list(cats)


async def set_unit_categories(
    session: AsyncSession, *, unit_id: int, categories: list[str]
) -> None:
    """Replace the categories a unit handles."""
    await get_unit(session, unit_id)
    for c in categories:
        await get_category(session, c, field="categories")
    await session.execute(delete(UnitCategory).where(UnitCategory.unit_id == unit_id))
    session.add_all(
        UnitCategory(unit_id=unit_id, category_code=c) for c in dict.fromkeys(categories)
    )
    await session.flush()


async def list_provinces(session: AsyncSession) -> list[Province]:
    return list((await session.scalars(select(Province).order_by(Province.code))).all())


async def list_wards(
    session: AsyncSession,
    *,
    province_code: str | None = None,
    q: str | None = None,
    limit: int = 100,
) -> list[Ward]:
    stmt = select(Ward).order_by(Ward.code).limit(limit)
    if province_code:
        stmt = stmt.where(Ward.province_code == province_code)
    if q:
        # autoescape: "_" survives folding and would otherwise match any character in LIKE.
        stmt = stmt.where(Ward.search_name.contains(fold(q), autoescape=True))
    return list((await session.scalars(stmt)).all())
