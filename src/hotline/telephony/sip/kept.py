"""Values kept for a while after they were set, without a timer each.

The user agent keeps each transaction's last response (and each re-INVITE's ACK) for 64*T1
to answer retransmissions. A `call_later` per response kept a timer handle, its context and
a bound method alive for 32 s: at 20 calls a second, about 2,000 of each, all walked by
every full collection of the garbage collector, which stalls the media clock (gcpacer.py).
Here a value's deadline goes on a queue in the order they were set (one `ttl` for all, so
the queue stays sorted) and expired values are dropped whenever the map is used.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class KeptFor(Generic[K, V]):
    """A map whose entries live `ttl` seconds after their last `set`."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._values: dict[K, tuple[float, V]] = {}
        self._deadlines: deque[tuple[float, K]] = deque()

    def set(self, key: K, value: V) -> None:
        now = self.clock()
        self._drop_expired(now)
        deadline = now + self.ttl
        self._values[key] = (deadline, value)
        self._deadlines.append((deadline, key))

    def get(self, key: K) -> V | None:
        self._drop_expired(self.clock())
        kept = self._values.get(key)
        return None if kept is None else kept[1]

    def __len__(self) -> int:
        self._drop_expired(self.clock())
        return len(self._values)

    def _drop_expired(self, now: float) -> None:
        deadlines, values = self._deadlines, self._values
        while deadlines and deadlines[0][0] <= now:
            deadline, key = deadlines.popleft()
            kept = values.get(key)
            if kept is not None and kept[0] == deadline:  # not set again since
                del values[key]
