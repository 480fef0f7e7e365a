"""Errors that repeat, logged once per interval: a database outage must not flood the log.

While the database is away every call that ends, every poll and every status change fails
the same way; a traceback each would bury the one line that matters. One line is logged per
distinct error (the event and the error's kind and first line) per interval; the repeats
held back are counted and reported with that error's next line, or by `flush`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import structlog

from hotline.telephony.sip.guard import LogLimiter

log = structlog.get_logger("hotline.telephony")


def describe(exc: BaseException) -> str:
    """The error's kind and the first line of its message, as one short line."""
    lines = str(exc).strip().splitlines()
    first = lines[0][:200] if lines else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


class ErrorLog:
    def __init__(self, interval: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = LogLimiter(interval, clock=clock)

    def error(
        self, event: str, exc: BaseException, *, traceback: bool = False, **fields: Any
    ) -> None:
        """Log `exc` under `event` unless the same error was logged within the interval.
        `traceback`: with the stack (for errors that are bugs, not outages)."""
        held = self.limit.allow((event, describe(exc)))
        if held is None:
            return
        if held:
            fields["suppressed"] = held
        if traceback:
            log.error(event, error=describe(exc), exc_info=exc, **fields)
        else:
            log.error(event, error=describe(exc), **fields)

    def flush(self) -> None:
        """Report the repeats held back by errors that have not come back since."""
        for (event, error), held in self.limit.flush():
            log.warning("errors_suppressed", event=event, error=error, suppressed=held)
