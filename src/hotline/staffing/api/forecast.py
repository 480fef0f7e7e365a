"""The staffing forecast."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from hotline.staffing import planning
from hotline.staffing.api.common import ActorDep, StateDep

router = APIRouter(prefix="/api/v1", tags=["staffing"])


class ServiceLevelOut(BaseModel):
    target: float
    seconds: int


class SlotOut(BaseModel):
    start: datetime
    calls: float
    aht_seconds: float
    agents_needed: int
    agents_rostered: int
    gap: int


class HistoryOut(BaseModel):
    date_from: date = Field(serialization_alias="from")
    date_to: date = Field(serialization_alias="to")
    weeks: int
    days: int
    enough: bool
    # same_weekday | all_days (under a week) | shift_templates (no history at all)
    basis: str
    trend: bool
    note: str


class ForecastOut(BaseModel):
    service_level: ServiceLevelOut
    # "erlang_a" when the call history shows callers' mean patience, else "erlang_c".
    model: str
    patience_seconds: float | None
    history: HistoryOut
    slots: list[SlotOut]


@router.get("/staffing/forecast", response_model=ForecastOut, response_model_by_alias=True)
async def staffing_forecast(
    actor: ActorDep,
    state: StateDep,
    day: Annotated[date, Query(alias="date")],
    days: Annotated[int, Query(ge=1, le=planning.MAX_DAYS)] = 1,
    scale: Annotated[int, Query(ge=1, le=3)] = 1,
) -> ForecastOut:
    """Calls, handle time, agents needed and rostered per half-hour (site time); `scale`
    2 or 3 shows what doubled or tripled calls would need."""
    rules = planning.StaffingRules.from_settings(state.settings)
    async with state.unit_of_work(read_only=True) as session:
        f = await planning.staffing_forecast(
            session, actor=actor, first_day=day, rules=rules, days=days, scale=float(scale)
        )
    h = f.history
    assert h is not None
    return ForecastOut(
        service_level=ServiceLevelOut(target=rules.target, seconds=rules.seconds),
        history=HistoryOut(
            date_from=h.start,
            date_to=h.last,
            weeks=h.weeks,
            days=h.days,
            enough=h.enough,
            basis=h.basis,
            trend=h.trend,
            note=h.note,
        ),
        model=f.model,
        patience_seconds=None if f.patience_seconds is None else round(f.patience_seconds, 1),
        slots=[
            SlotOut(
                start=s.start,
                calls=round(s.calls, 2),
                aht_seconds=round(s.aht_seconds, 1),
                agents_needed=s.agents_needed,
                agents_rostered=s.agents_rostered,
                gap=s.gap,
            )
            for s in f.slots
        ],
    )
