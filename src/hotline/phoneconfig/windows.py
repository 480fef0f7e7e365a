"""Opening-hours windows as configured (`HH:MM-HH:MM`, local site time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time


@dataclass(frozen=True)
class Window:
    start: time
    end: time

    def contains(self, at: time) -> bool:
        if self.start <= self.end:
            return self.start <= at < self.end
        return at >= self.start or at < self.end  # across midnight


def parse_window(text: str) -> Window:
    """`HH:MM-HH:MM`; ValueError otherwise."""
    start, sep, end = text.strip().partition("-")
    if not sep:
        raise ValueError(f"not HH:MM-HH:MM: {text!r}")
    return Window(time.fromisoformat(start.strip()), time.fromisoformat(end.strip()))
