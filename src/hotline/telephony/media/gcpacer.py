"""Garbage collection paced by the media clock, so a collection never lands on a tick.

CPython's collector runs whenever allocations cross a threshold: in the middle of whatever
the loop is doing, and a full collection of a few hundred calls' objects stalls the loop
25-70 ms (measured), which delays every stream's next frame by as much. Here the automatic
collector is off; the media clock calls `after_tick()` once it has sent a tick's frames, and
the collection that is due runs then, in the ~15 ms left before the next tick. The same
generational rules are kept (young collections often, older ones after several young ones);
full collections, the only expensive ones, are additionally spaced out in time.

Before that, `install()` collects once and freezes everything built at start-up (prompt
frames, G.711 tables, modules, the database engine): frozen objects are never traversed
again, so a full collection only walks what calls in progress keep alive.

That holds only if an ended call leaves no reference cycle: cyclic garbage waits in the
oldest generation for the next full collection, which then walks and frees every call ended
since the one before (at 400 calls, ~17,000 objects besides the live calls' ~25,000). So a
call's objects must not point back at each other once it ends (tests/telephony/
test_call_cycles.py); `stats.collected` says how much cyclic garbage the line still makes.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass


@dataclass
class GcStats:
    collections: tuple[int, int, int] = (0, 0, 0)
    longest_ms: tuple[float, float, float] = (0.0, 0.0, 0.0)
    over_budget: int = 0  # collections that took longer than the gap to the next tick
    # Unreachable objects each generation's collections found: cyclic garbage, which only
    # the collector frees. Ended calls leave none (tests/telephony/test_call_cycles.py); a
    # growing figure here means something builds cycles again and lengthens full collections.
    collected: tuple[int, int, int] = (0, 0, 0)


class GcPacer:
    def __init__(
        self,
        *,
        young: int = 700,
        middle: int = 10,
        old: int = 10,
        full_interval: float = 30.0,
        budget_ms: float = 12.0,
    ) -> None:
        self.young, self.middle, self.old = young, middle, old
        self.full_interval = full_interval
        self.budget_ms = budget_ms
        self._last_full = time.monotonic()
        self._counts = [0, 0, 0]
        self._longest = [0.0, 0.0, 0.0]
        self._collected = [0, 0, 0]
        self._over = 0

    def install(self) -> None:
        """Collect once, freeze what start-up built, and take over from the automatic GC.

        For a process that does nothing but the phone line: with several jobs in one
        process, freezing would pin their garbage and turning the collector off would
        depend on this clock running.
        """
        gc.collect()
        gc.freeze()
        gc.disable()
        self._last_full = time.monotonic()

    def uninstall(self) -> None:
        gc.unfreeze()
        gc.enable()

    def after_tick(self) -> None:
        """Run at most one collection: the oldest generation that is due."""
        allocated, young_runs, middle_runs = gc.get_count()
        if allocated < self.young:
            return
        generation = 0
        if young_runs >= self.middle:
            generation = 1
            if middle_runs >= self.old:
                now = time.monotonic()
                if now - self._last_full >= self.full_interval:
                    generation, self._last_full = 2, now
        started = time.perf_counter()
        found = gc.collect(generation)
        took = (time.perf_counter() - started) * 1000.0
        self._counts[generation] += 1
        self._collected[generation] += found
        self._longest[generation] = max(self._longest[generation], took)
        if took > self.budget_ms:
            self._over += 1

    @property
    def stats(self) -> GcStats:
        return GcStats(
            collections=(self._counts[0], self._counts[1], self._counts[2]),
            longest_ms=(self._longest[0], self._longest[1], self._longest[2]),
            over_budget=self._over,
            collected=(self._collected[0], self._collected[1], self._collected[2]),
        )
