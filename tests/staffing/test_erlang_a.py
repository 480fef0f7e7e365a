"""Erlang A (M/M/n+M) checked three ways: with patience that never runs out it is Erlang C;
with patience equal to the handle time every caller leaves at the same rate whether served
or not, so the number in the system is Poisson (M/M/∞) and the figures are exact sums; and
a simulation of the queue (first come, first served, exponential patience) agrees."""

from __future__ import annotations

import heapq
import math
import random

import pytest

from hotline.staffing.erlang import agents_needed, erlang_c, service_level
from hotline.staffing.erlang_a import agents_needed_a, erlang_a, log_gamma_pq


@pytest.mark.parametrize(
    ("a", "z", "p"),
    [
        # Reference values of the regularised lower incomplete gamma function P(a, z)
        # (Abramowitz and Stegun 6.5; P(1, z) = 1 − e^−z, P(1/2, z) = erf(√z)).
        (1.0, 2.0, 1 - math.exp(-2.0)),
        (0.5, 3.0, math.erf(math.sqrt(3.0))),
        (3.0, 1.5, 1 - math.exp(-1.5) * (1 + 1.5 + 1.5**2 / 2)),
        (10.0, 25.0, 1 - math.exp(-25.0) * sum(25.0**k / math.factorial(k) for k in range(10))),
        (40.0, 10.0, math.exp(-10.0) * sum(10.0**k / math.factorial(k) for k in range(40, 120))),
    ],
)
def test_the_incomplete_gamma_function_matches_closed_forms(a: float, z: float, p: float) -> None:
    log_p, log_q = log_gamma_pq(a, z)
    assert math.exp(log_p) == pytest.approx(p, rel=1e-12)
    assert math.exp(log_q) == pytest.approx(1 - p, rel=1e-9, abs=1e-15)


@pytest.mark.parametrize(
    ("agents", "calls", "aht"), [(10, 50, 300), (20, 120, 270), (60, 500, 200)]
)
def test_with_endless_patience_erlang_a_is_erlang_c(agents: int, calls: int, aht: float) -> None:
    load = calls * aht / 1800
    a = erlang_a(agents, calls, aht, patience_seconds=1e8)
    assert a.p_wait == pytest.approx(erlang_c(agents, load), rel=1e-4)
    assert a.service_level == pytest.approx(service_level(agents, load, aht, 20), rel=1e-4)
    assert a.p_abandon < 1e-5


def _poisson_tail(load: float, agents: int) -> tuple[float, float]:
    """P(N ≥ n) and E[(N − n)+] for N ~ Poisson(load)."""
    pmf = [math.exp(-load)]
    for k in range(1, 200):
        pmf.append(pmf[-1] * load / k)
    return sum(pmf[agents:]), sum((k - agents) * p for k, p in enumerate(pmf) if k > agents)


@pytest.mark.parametrize(("agents", "load"), [(5, 4.0), (10, 12.0), (30, 25.0), (8, 20.0)])
def test_with_patience_equal_to_the_handle_time_the_figures_are_poisson(
    agents: int, load: float
) -> None:
    aht = 300.0
    a = erlang_a(agents, load * 1800 / aht, aht, patience_seconds=aht)
    waits, queued = _poisson_tail(load, agents)
    assert a.p_wait == pytest.approx(waits, rel=1e-9)
    # Callers hang up at rate θ each while queued: θ·E[queue] of the λ arriving.
    assert a.p_abandon == pytest.approx(queued / load, rel=1e-9)


def _simulate(
    agents: int, calls: float, aht: float, patience: float, seconds: float, n: int = 200_000
) -> tuple[float, float, float]:
    """P(wait), P(abandon), P(answered within `seconds`) of `n` simulated callers. First
    come, first served: a caller's wait is when the first agent frees up after the callers
    before them who stayed; they stay if their patience outlasts it (one seeded run)."""
    rng = random.Random(1022)
    rate = calls / 1800
    free = [0.0] * agents
    now = 0.0
    waited = abandoned = answered = 0
    for _ in range(n):
        now += rng.expovariate(rate)
        wait = max(0.0, free[0] - now)
        waited += wait > 0
        if wait <= rng.expovariate(1 / patience):
            heapq.heapreplace(free, now + wait + rng.expovariate(1 / aht))
            answered += wait <= seconds
        else:
            abandoned += 1
    return waited / n, abandoned / n, answered / n


@pytest.mark.parametrize(
    ("agents", "calls", "aht", "patience"),
    [
        (10, 60, 300, 120),  # load 10 on 10 agents: Erlang C has no answer, Erlang A has
        (12, 60, 300, 60),
        (5, 40, 180, 30),
        (20, 150, 240, 300),
    ],
)
def test_erlang_a_agrees_with_a_simulation_of_the_queue(
    agents: int, calls: int, aht: float, patience: float
) -> None:
    a = erlang_a(agents, calls, aht, patience, seconds=20)
    waited, abandoned, answered = _simulate(agents, calls, aht, patience, 20)
    assert a.p_wait == pytest.approx(waited, abs=0.01)
    assert a.p_abandon == pytest.approx(abandoned, abs=0.01)
    assert a.service_level == pytest.approx(answered, abs=0.01)


def test_agents_needed_is_the_fewest_that_meet_the_target() -> None:
    calls, aht, patience = 150, 280, 90
    staffed = agents_needed_a(calls, aht, patience, target=0.8, seconds=20, max_occupancy=None)
    assert staffed.service_level >= 0.8
    fewer = erlang_a(staffed.agents - 1, calls, aht, patience, seconds=20)
    assert fewer.service_level < 0.8
    # Callers who hang up shorten the queue: no more agents than Erlang C asks for.
    erlang_c_agents = agents_needed(calls, aht, target=0.8, seconds=20, max_occupancy=None).agents
    assert staffed.agents <= erlang_c_agents
    capped = agents_needed_a(calls, aht, patience, max_occupancy=0.7)
    assert capped.occupancy <= 0.7 < erlang_a(capped.agents - 1, calls, aht, patience).occupancy
    assert agents_needed_a(0, aht, patience).agents == 0
