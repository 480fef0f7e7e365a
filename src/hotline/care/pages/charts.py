"""The patient page's vital-sign charts, drawn on the server as inline SVG (no chart
library, no script): one small line chart per measure over the patient's check-ins, with
the thresholds the rule sets watch marked, as the dashboard draws its charts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hotline.care.models import CheckIn

WIDTH, HEIGHT = 640, 150
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 10, 26


@dataclass(frozen=True)
class Measure:
    name: str  # the check-in's attribute
    low: float  # the axis at least covers low..high
    high: float
    lines: tuple[float, ...]  # thresholds marked across the chart
    decimals: int = 0


# SpO2 ≤ 96 and < 94, respiratory rate ≥ 21 and > 25, pulse < 50 and > 120, temperature
# > 37.5, systolic < 90, diastolic < 60: where the warning-sign and severity rule sets draw
# their lines.
MEASURES = (
    Measure("spo2", 88, 100, (94, 96)),
    Measure("respiratory_rate", 10, 32, (21, 25)),
    Measure("pulse", 45, 130, (50, 120)),
    Measure("temperature", 36, 40, (37.5,), decimals=1),
    Measure("systolic_bp", 80, 170, (90,)),
    Measure("diastolic_bp", 45, 110, (60,)),
)


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    value: float
    at: datetime
    text: str  # the value as shown


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    name: str
    points: list[Point]
    polyline: str
    ticks: list[Tick]
    lines: list[Tick]
    first: datetime
    last: datetime
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT
    base: int = HEIGHT - BOTTOM


def _scale(value: float, low: float, high: float) -> float:
    span = (high - low) or 1.0
    return round(TOP + (high - value) / span * (HEIGHT - TOP - BOTTOM), 1)


def _text(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


def chart_of(measure: Measure, checkins: list[CheckIn]) -> Chart | None:
    """The chart of one measure over the check-ins (oldest first), or None when none of
    them has it. x: time, evenly scaled from the first check-in to the last."""
    taken = [(c.at, float(v)) for c in checkins if (v := getattr(c, measure.name)) is not None]
    if not taken:
        return None
    values = [v for _, v in taken]
    low, high = min(measure.low, *values), max(measure.high, *values)
    first, last = taken[0][0], taken[-1][0]
    span = (last - first).total_seconds()
    usable = WIDTH - LEFT - RIGHT - 16
    points = []
    for at, value in taken:
        fraction = (at - first).total_seconds() / span if span else 0.5
        x = round(LEFT + 8 + fraction * usable, 1)
        points.append(Point(x, _scale(value, low, high), value, at, _text(value, measure.decimals)))
    ticks = [Tick(_scale(v, low, high), _text(v, measure.decimals)) for v in (low, high)]
    lines = [Tick(_scale(v, low, high), _text(v, 1 if v % 1 else 0)) for v in measure.lines]
    return Chart(
        name=measure.name,
        points=points,
        polyline=" ".join(f"{p.x},{p.y}" for p in points),
        ticks=ticks,
        lines=lines,
        first=first,
        last=last,
    )


def charts_of(checkins: list[CheckIn]) -> list[Chart]:
    """Every measure with at least one value, oldest check-in first."""
    ordered = sorted(checkins, key=lambda c: (c.at, c.id))
    return [c for m in MEASURES if (c := chart_of(m, ordered)) is not None]
