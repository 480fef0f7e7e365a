"""Erlang B and C against published tables and worked examples, and against the textbook
formula computed exactly (fractions), so the fast recursion cannot drift from it."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.staffing.erlang import (
    agents_needed,
    average_speed_of_answer,
    erlang_b,
    erlang_c,
    service_level,
)


def _load_for_blocking(agents: int, blocking: float) -> float:
    lo, hi = 0.0, 3.0 * agents
    for _ in range(80):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if erlang_b(agents, mid) > blocking else (mid, hi)
    return lo


# The Erlang B table printed in teletraffic handbooks (e.g. ITU-D "Teletraffic Engineering
# Handbook", Iversen, table of the Erlang B formula; the same figures as every "Erlang B
# table" of call-centre and PBX sizing guides): the traffic in Erlangs that N circuits carry
# at a grade of service (blocking probability), to two decimals.
ERLANG_B_TABLE = [
    (5, 0.01, 1.36),
    (10, 0.01, 4.46),
    (10, 0.02, 5.08),
    (20, 0.01, 12.03),
    (50, 0.01, 37.90),
    (100, 0.01, 84.06),
]


@pytest.mark.parametrize(("agents", "blocking", "erlangs"), ERLANG_B_TABLE)
def test_erlang_b_matches_the_published_table(agents: int, blocking: float, erlangs: float) -> None:
    assert _load_for_blocking(agents, blocking) == pytest.approx(erlangs, abs=0.005)


def test_erlang_c_matches_the_mitan_worked_example() -> None:
    """Mitan Ltd, "The Erlang-C formula" (the step-by-step example of the Erlang-C
    calculators' documentation): 360 calls in a half-hour, 4-minute calls, 55 agents, 15 s
    target. Printed: traffic 48 Erlangs, occupancy 87.3 %, probability of waiting 23.87 %,
    average speed of answer 8.2 s, service level 84.6 %."""
    load = 360 * 240 / 1800
    assert load == 48
    assert load / 55 == pytest.approx(0.873, abs=0.0005)
    assert erlang_c(55, load) == pytest.approx(0.2387, abs=0.00005)
    assert average_speed_of_answer(55, load, 240) == pytest.approx(8.2, abs=0.05)
    assert service_level(55, load, 240, 15) == pytest.approx(0.846, abs=0.0005)


def test_agents_for_the_call_centre_helper_example() -> None:
    """Call Centre Helper, "Erlang C Formula – Made Simple With an Easy Worked Example":
    100 calls in 30 minutes, 180 s handle time, 80 % within 20 s, 85 % maximum occupancy:
    14 agents (10 Erlangs; 13 would answer under 80 %)."""
    staffing = agents_needed(100, 180, target=0.8, seconds=20, max_occupancy=0.85)
    assert staffing.agents == 14
    assert staffing.load == pytest.approx(10)
    assert staffing.occupancy == pytest.approx(10 / 14)
    assert service_level(13, 10, 180, 20) < 0.8 <= staffing.service_level


def test_more_load_needs_more_agents_and_the_occupancy_cap_binds_at_high_load() -> None:
    light = agents_needed(20, 240)
    heavy = agents_needed(360, 240)
    assert 0 < light.agents < heavy.agents
    # 48 Erlangs for 80/20 alone needs 54 agents (88.9 % busy); capped at 85 %: 57.
    assert agents_needed(360, 240, max_occupancy=None).agents == 54
    assert heavy.agents == 57 and heavy.occupancy <= 0.85
    assert service_level(53, 48, 240, 20) < 0.8 <= service_level(54, 48, 240, 20)


def test_no_calls_need_nobody_and_one_call_needs_someone() -> None:
    assert agents_needed(0, 300).agents == 0
    assert agents_needed(0.2, 300).agents == 1


def test_a_large_surge_stays_finite_and_exact() -> None:
    """Hồ Chí Minh City's 59,000 calls a day, a peak half-hour three times the day's
    average, 5-minute calls: 600 Erlangs, where A^n/n! would overflow a float."""
    staffing = agents_needed(59_000 / 48 * 3, 300)
    assert staffing.agents > staffing.load > 600
    assert 0.8 <= staffing.service_level <= 1


def _erlang_c_textbook(n: int, a: Fraction) -> Fraction:
    top = a**n / math.factorial(n) * n / (n - a)
    return top / (sum(a**k / math.factorial(k) for k in range(n)) + top)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=60), st.fractions(min_value=0, max_value=1))
def test_the_recursion_equals_the_textbook_formula(n: int, share: Fraction) -> None:
    load = Fraction(n) * share * Fraction(99, 100)
    if load == 0:
        return
    assert erlang_c(n, float(load)) == pytest.approx(float(_erlang_c_textbook(n, load)), rel=1e-9)
