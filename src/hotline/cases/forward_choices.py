"""What the case page offers for forwarding: the units the routing rule suggests first,
then every other active unit by name; and the case's ward as a place name."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.cases.models import Case
from hotline.directory.models import Province, Unit, Ward
from hotline.directory.service import suggest_units
from hotline.errors import InvalidInput


@dataclass(frozen=True)
class ForwardChoices:
    suggested: list[Unit]
    others: list[Unit]


async def forward_choices(session: AsyncSession, case: Case, units: list[Unit]) -> ForwardChoices:
    """Suggested units ("category + ward → units", as the console's /units/suggest) in the
    rule's order, then the other active units in name order."""
    suggested: list[Unit] = []
    if case.category_code:
        try:
            suggested = await suggest_units(
                session, category_code=case.category_code, ward_code=case.ward_code
            )
        except InvalidInput:
            # A category or ward retired since intake: nothing to suggest, all units offered.
            suggested = []
    chosen = {u.id for u in suggested}
    others = sorted((u for u in units if u.active and u.id not in chosen), key=lambda u: u.name)
    return ForwardChoices(suggested, others)


async def place_of(session: AsyncSession, ward_code: str | None) -> str | None:
    """'Phường Ba Đình, Thành phố Hà Nội' (wards sit directly under provinces)."""
    if not ward_code:
        return None
    ward = await session.get(Ward, ward_code)
    if ward is None:
        return ward_code
    province = await session.get(Province, ward.province_code)
    return f"{ward.name}, {province.name}" if province else ward.name
