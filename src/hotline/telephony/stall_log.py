"""The media clock's late ticks, reported (docs/telephony.md, "Stalls are reported")."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict

import structlog

from hotline.telephony.media.rtp import Stall
from hotline.telephony.metrics import LineMetrics

log = structlog.get_logger("hotline.telephony")


class StallLog:
    """The clock's `on_stall`: every late tick counts in the line's metrics (when it serves
    them); it is logged as `media_stall` at most once a second, with the count of late ticks
    since the line before (this one included): a starved machine would otherwise log every
    tick."""

    def __init__(
        self,
        metrics: LineMetrics | None,
        *,
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.metrics, self.interval, self.clock = metrics, interval, clock
        self._stalls = 0
        self._logged: float | None = None

    def __call__(self, stall: Stall) -> None:
        if self.metrics is not None:
            self.metrics.media_stall()
        self._stalls += 1
        now = self.clock()
        if self._logged is None or now - self._logged >= self.interval:
            log.warning("media_stall", **asdict(stall), stalls=self._stalls)
            self._stalls, self._logged = 0, now
