"""Erlang B and C: how many operators a half-hour needs for a service level.

Written here rather than taken from a package: the two on PyPI that compute it either send
every calculation to a vendor's web service (`erlangccmath`) or bring pandas and OR-Tools
with them (`pyworkforce`); the formulas are a dozen lines. Erlang B uses the recursion
B(0) = 1, B(n) = A·B(n-1) / (n + A·B(n-1)), which never forms A^n or n! and so stays exact
in floating point for thousands of agents; Erlang C is derived from it,
C = n·B / (n - A·(1 - B)). The model assumes Poisson arrivals, exponential handle times and
callers who wait for ever (M/M/n); callers who hang up make it pessimistic, i.e. safe.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

HALF_HOUR = 1800.0


def erlang_b(agents: int, load: float) -> float:
    """The probability that a call finds every one of `agents` busy (blocked calls lost)."""
    if agents < 0 or load < 0:
        raise ValueError("agents and load must not be negative")
    b = 1.0
    for k in range(1, agents + 1):
        b = load * b / (k + load * b)
    return b


def _c_of_b(agents: int, load: float, b: float) -> float:
    if load >= agents:
        return 1.0
    return agents * b / (agents - load * (1 - b))


def erlang_c(agents: int, load: float) -> float:
    """The probability that a call waits at all (queued calls wait): 1 when load ≥ agents."""
    if load == 0:
        return 0.0
    return _c_of_b(agents, load, erlang_b(agents, load))


def service_level(agents: int, load: float, aht: float, seconds: float) -> float:
    """The share of calls answered within `seconds`: 1 - C·e^(-(n - A)·t / AHT)."""
    if load == 0:
        return 1.0
    if load >= agents:
        return 0.0
    return 1.0 - erlang_c(agents, load) * math.exp(-(agents - load) * seconds / aht)


def average_speed_of_answer(agents: int, load: float, aht: float) -> float:
    """The mean wait over all calls, C·AHT / (n - A); infinite when load ≥ agents."""
    if load == 0:
        return 0.0
    if load >= agents:
        return math.inf
    return erlang_c(agents, load) * aht / (agents - load)


@dataclass(frozen=True)
class Staffing:
    agents: int
    load: float  # Erlangs
    service_level: float
    occupancy: float
    asa_seconds: float


def agents_needed(
    calls: float,
    aht_seconds: float,
    *,
    target: float = 0.8,
    seconds: float = 20.0,
    interval_seconds: float = HALF_HOUR,
    max_occupancy: float | None = 0.85,
) -> Staffing:
    """The fewest agents that answer `target` of `calls` (in an interval) within `seconds`,
    and keep occupancy at or under `max_occupancy` (None: no cap). One pass of the
    recursion: B is carried from n to n + 1, so the cost is O(agents)."""
    if not 0 < target < 1:
        raise ValueError("target must be between 0 and 1")
    if calls < 0 or aht_seconds < 0:
        raise ValueError("calls and handle time must not be negative")
    load = calls * aht_seconds / interval_seconds
    if load == 0:
        return Staffing(0, 0.0, 1.0, 0.0, 0.0)
    n = math.floor(load)
    if max_occupancy is not None:
        n = max(n, math.ceil(load / max_occupancy) - 1)
    b = erlang_b(n, load)
    while True:
        n += 1
        b = load * b / (n + load * b)
        if load >= n:
            continue
        c = _c_of_b(n, load, b)
        level = 1.0 - c * math.exp(-(n - load) * seconds / aht_seconds)
        if level >= target and (max_occupancy is None or load / n <= max_occupancy):
            return Staffing(n, load, level, load / n, c * aht_seconds / (n - load))
