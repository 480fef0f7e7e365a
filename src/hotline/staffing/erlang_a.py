"""Erlang A (Palm's M/M/n+M): Erlang C with callers who hang up.

Callers arrive at rate λ, handle times are exponential with mean h (μ = 1/h), and each
caller waits at most an exponential patience of mean p (θ = 1/p) before hanging up. With
x = nμ/θ, y = λ/θ, E = Erlang B(n, λh) and P(a, z) the regularised lower incomplete gamma
function (Garnett, Mandelbaum and Reiman, "Designing a call center with impatient
customers", 2002; Mandelbaum and Zeltyn's "4CallCenters" formulae):

    A(x, y)       = x·e^y·y^(−x)·Γ(x)·P(x, y)
    P(wait)       = A·E / (1 + (A − 1)·E)
    P(served | wait)              = x·P(x + 1, y) / (y·P(x, y))
    P(served within t | wait)     = x·(P(x + 1, y) − P(x + 1, y·e^(−θt))) / (y·P(x, y))
    P(abandon)    = P(wait)·(1 − P(served | wait))

The last two come from the wait a caller who finds m people queued ahead would have with
infinite patience: a sum of exponentials of rates θ(x + m), …, θ(x + 1), θx, for which
e^(−θ·wait) is Beta(x, m + 1); summed over the queue lengths callers find, the sums close
into incomplete gamma functions. The tests check the formulas against Erlang C (patience
without end), against the exact M/M/∞ figures (patience equal to the handle time), and
against a simulation of the queue.

The service level is the share of *all* callers answered within t seconds: a caller who
hangs up counts as not answered, however soon they hung up (as in Erlang C, where every
caller is eventually answered). Unlike Erlang C, the queue stays finite when the load
reaches the number of agents: impatient callers leave it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hotline.staffing.erlang import HALF_HOUR, agents_needed, erlang_b

_TINY = 1e-300
_EPS = 1e-15
_MAX_TERMS = 100_000


def log_gamma_pq(a: float, z: float) -> tuple[float, float]:
    """ln P(a, z) and ln Q(a, z), the regularised lower and upper incomplete gamma
    functions, each accurate even where it is tiny: the series for P when z < a + 1, the
    continued fraction (modified Lentz) for Q otherwise (Numerical Recipes, 6.2)."""
    if a <= 0:
        raise ValueError("a must be positive")
    if z <= 0:
        return -math.inf, 0.0
    prefactor = a * math.log(z) - z - math.lgamma(a)
    if z < a + 1:
        term = total = 1.0 / a
        ap = a
        for _ in range(_MAX_TERMS):
            ap += 1
            term *= z / ap
            total += term
            if term < total * _EPS:
                break
        log_p = prefactor + math.log(total)
        return log_p, math.log1p(-math.exp(log_p)) if log_p < 0 else -math.inf
    b = z + 1 - a
    c = 1 / _TINY
    d = 1 / b
    h = d
    for i in range(1, _MAX_TERMS):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = d if abs(d) > _TINY else _TINY
        c = b + an / c
        c = c if abs(c) > _TINY else _TINY
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < _EPS:
            break
    log_q = prefactor + math.log(h)
    return (math.log1p(-math.exp(log_q)) if log_q < 0 else -math.inf), log_q


def _log_diff(log_big: float, log_small: float) -> float:
    """ln(e^big − e^small), for big ≥ small."""
    if log_small == -math.inf:
        return log_big
    return log_big + math.log1p(-math.exp(min(0.0, log_small - log_big)))


@dataclass(frozen=True)
class ErlangA:
    agents: int
    load: float  # offered, Erlangs
    p_wait: float
    p_abandon: float
    service_level: float  # answered within `seconds`, of all callers
    occupancy: float  # the answered calls' load per agent


def erlang_a(
    agents: int,
    calls: float,
    aht_seconds: float,
    patience_seconds: float,
    *,
    seconds: float = 20.0,
    interval_seconds: float = HALF_HOUR,
) -> ErlangA:
    """The queue's figures with `agents` for `calls` in an interval, callers hanging up
    after `patience_seconds` on average (exponentially distributed)."""
    if agents < 0 or calls < 0 or aht_seconds <= 0 or patience_seconds <= 0:
        raise ValueError("agents, calls, handle time and patience must be positive")
    lam = calls / interval_seconds
    load = lam * aht_seconds
    if load == 0:
        return ErlangA(agents, 0.0, 0.0, 0.0, 1.0, 0.0)
    if agents == 0:
        return ErlangA(0, load, 1.0, 1.0, 0.0, 0.0)
    theta = 1.0 / patience_seconds
    x = agents / aht_seconds / theta
    y = lam / theta
    z = y * math.exp(-theta * seconds)
    log_p_xy, _ = log_gamma_pq(x, y)
    log_a = math.log(x) + y - x * math.log(y) + math.lgamma(x) + log_p_xy
    e = erlang_b(agents, load)
    # P(wait) = E / (E + (1 − E)/A), stable however large A is.
    p_wait = e / (e + (1 - e) * math.exp(-log_a))
    lp1_y, lq1_y = log_gamma_pq(x + 1, y)
    lp1_z, lq1_z = log_gamma_pq(x + 1, z)
    ratio = math.log(x) - math.log(y) - log_p_xy
    served = min(1.0, math.exp(ratio + lp1_y))
    if lp1_y < math.log(0.5):
        within = math.exp(ratio + _log_diff(lp1_y, lp1_z))
    else:  # both near 1: the difference of the upper functions loses nothing
        within = math.exp(ratio + _log_diff(lq1_z, lq1_y))
    p_abandon = p_wait * (1 - served)
    level = (1 - p_wait) + p_wait * min(within, served)
    return ErlangA(agents, load, p_wait, p_abandon, level, load * (1 - p_abandon) / agents)


def agents_needed_a(
    calls: float,
    aht_seconds: float,
    patience_seconds: float,
    *,
    target: float = 0.8,
    seconds: float = 20.0,
    interval_seconds: float = HALF_HOUR,
    max_occupancy: float | None = 0.85,
) -> ErlangA:
    """The fewest agents that answer `target` of all callers within `seconds` with the
    answered load per agent at or under `max_occupancy`. Both rise with each agent added,
    so the search walks from Erlang C's answer (a few agents away) down or up."""
    if not 0 < target < 1:
        raise ValueError("target must be between 0 and 1")
    if calls == 0:
        return ErlangA(0, 0.0, 0.0, 0.0, 1.0, 0.0)

    def enough(n: int) -> ErlangA | None:
        figures = erlang_a(
            n,
            calls,
            aht_seconds,
            patience_seconds,
            seconds=seconds,
            interval_seconds=interval_seconds,
        )
        fits = figures.service_level >= target and (
            max_occupancy is None or figures.occupancy <= max_occupancy
        )
        return figures if fits else None

    n = agents_needed(
        calls,
        aht_seconds,
        target=target,
        seconds=seconds,
        interval_seconds=interval_seconds,
        max_occupancy=max_occupancy,
    ).agents
    best = enough(n)
    if best is None:
        while best is None:
            n += 1
            best = enough(n)
        return best
    while n > 1 and (fewer := enough(n - 1)) is not None:
        n, best = n - 1, fewer
    return best
