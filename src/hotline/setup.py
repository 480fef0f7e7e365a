"""First-run set-up: schema, places, default categories, units and shifts."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.directory.service import ensure_default_categories, ensure_default_units, load_places
from hotline.staffing.service import ensure_default_shifts


async def bootstrap(session: AsyncSession, *, province_code: str) -> dict[str, int]:
    """Load what every site needs; running it again changes nothing."""
    wards = await load_places(session)
    categories = await ensure_default_categories(session)
    units = await ensure_default_units(session, province_code=province_code)
    shifts = await ensure_default_shifts(session)
    return {"wards": wards, "categories": categories, "units": len(units), "shifts": shifts}
