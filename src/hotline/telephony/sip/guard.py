"""Throttles at the door of the line: digest guessing at the registrar, floods in the log.

Both live in memory, per process, like the registrar's bindings. A restart forgets them,
which hands a guesser at most one more round of attempts (restarts are not theirs to
trigger), and in exchange a REGISTER never waits for the database. Both are bounded in size,
so a sender spraying user names or source addresses cannot grow them without limit.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int = 5  # failures within `window` that lock the key
    window: float = 300.0
    lockout: float = 60.0  # the first lockout; each further one doubles, up to max_lockout
    max_lockout: float = 3600.0
    max_keys: int = 10_000  # users or addresses remembered; quiet ones are dropped first


@dataclass
class _Record:
    failures: deque[float] = field(default_factory=deque)
    strikes: int = 0  # lockouts so far: the next one lasts lockout * 2**strikes
    locked_until: float = 0.0


class Lockouts:
    """Failed attempts per key (a SIP user, a source address) and the lockouts they earn."""

    def __init__(
        self,
        policy: LockoutPolicy,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int | None = None,
    ) -> None:
        self.policy = policy
        self.clock = clock
        self.max_keys = policy.max_keys if max_keys is None else max_keys
        self._records: dict[str, _Record] = {}

    def __len__(self) -> int:
        return len(self._records)

    def remaining(self, key: str) -> float:
        """Seconds left of the key's lockout; 0 when it may try."""
        record = self._records.get(key)
        return max(0.0, record.locked_until - self.clock()) if record is not None else 0.0

    def fail(self, key: str) -> float:
        """Count a failure; the length of the lockout it starts, or 0 if it starts none."""
        now, policy = self.clock(), self.policy
        record = self._records.get(key)
        if record is None:
            self._make_room(now)
            record = self._records[key] = _Record()
        if record.strikes and now - record.locked_until > policy.max_lockout:
            record.strikes = 0  # quiet for a long while since its last lockout: start over
        record.failures.append(now)
        while record.failures and now - record.failures[0] > policy.window:
            record.failures.popleft()
        if len(record.failures) < policy.max_failures:
            return 0.0
        seconds = min(policy.lockout * 2**record.strikes, policy.max_lockout)
        record.strikes += 1
        record.locked_until = now + seconds
        record.failures.clear()
        return seconds

    def clear(self, key: str) -> None:
        self._records.pop(key, None)

    def hold(self, key: str, seconds: float) -> None:
        """Lock `key` for `seconds` (a lockout another line started, read from the database):
        its further tries here are refused without asking the database again."""
        now = self.clock()
        record = self._records.get(key)
        if record is None:
            self._make_room(now)
            record = self._records[key] = _Record()
        record.locked_until = max(record.locked_until, now + seconds)

    def _stale(self, record: _Record, now: float) -> bool:
        latest = record.failures[-1] if record.failures else float("-inf")
        return (
            now - latest > self.policy.window
            and now - record.locked_until > self.policy.max_lockout
        )

    def _make_room(self, now: float) -> None:
        if len(self._records) < self.max_keys:
            return
        for key in [k for k, r in self._records.items() if self._stale(r, now)]:
            del self._records[key]
        # Still full: forget the oldest keys that are not locked out (then any).
        while len(self._records) >= self.max_keys:
            victim = next(
                (k for k, r in self._records.items() if r.locked_until <= now),
                next(iter(self._records)),
            )
            del self._records[victim]


class RegisterGuard:
    """Lockouts per SIP user and per source address for REGISTER's digest.

    Per user stops a guesser spread over many addresses; per address stops one address
    spraying many user names. A success clears the user's count, not the address's: a
    guesser holding one valid login must not be able to wipe its own slate.
    """

    def __init__(
        self,
        users: LockoutPolicy,
        addresses: LockoutPolicy,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.users = Lockouts(users, clock=clock)
        self.addresses = Lockouts(addresses, clock=clock)

    def address_locked(self, host: str) -> bool:
        return self.addresses.remaining(host) > 0

    def user_locked(self, user: str) -> bool:
        return self.users.remaining(user) > 0

    def failed(self, user: str | None, host: str) -> list[tuple[str, float]]:
        """Count a failed attempt (per user only for a real login: `user` None otherwise);
        the lockouts it started, as (kind, seconds)."""
        started = [("address", self.addresses.fail(host))]
        if user is not None:
            started.insert(0, ("user", self.users.fail(user)))
        return [(kind, seconds) for kind, seconds in started if seconds]

    def succeeded(self, user: str) -> None:
        self.users.clear(user)

    def hold(self, kind: str, name: str, seconds: float) -> None:
        (self.users if kind == "user" else self.addresses).hold(name, seconds)


class LogLimiter:
    """At most one log line per key (event, source address) per interval.

    What is held back is counted and reported with the key's next line, or by `flush`.
    Beyond `max_keys` distinct keys the rest share one, so a flood from spoofed addresses
    still logs a bounded number of lines.
    """

    OVERFLOW = ("*", "*")

    def __init__(
        self,
        interval: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 4096,
    ) -> None:
        self.interval = interval
        self.clock = clock
        self.max_keys = max_keys
        self._seen: dict[tuple[str, str], list[float]] = {}  # key -> [last line's time, held back]

    def allow(self, key: tuple[str, str]) -> int | None:
        """None: hold this line back. Else log it, with this many lines held back before it."""
        now = self.clock()
        entry = self._seen.get(key)
        if entry is None:
            if key != self.OVERFLOW and len(self._seen) >= self.max_keys:
                for old in [k for k, e in self._seen.items() if now - e[0] >= self.interval]:
                    if not self._seen[old][1]:  # held-back counts wait for `flush`
                        del self._seen[old]
                if len(self._seen) >= self.max_keys:
                    return self.allow(self.OVERFLOW)
            self._seen[key] = [now, 0]
            return 0
        if now - entry[0] >= self.interval:
            held = int(entry[1])
            entry[0], entry[1] = now, 0
            return held
        entry[1] += 1
        return None

    def flush(self) -> list[tuple[tuple[str, str], int]]:
        """The counts held back by keys whose interval has passed; those keys are forgotten."""
        now = self.clock()
        due = [(k, e) for k, e in self._seen.items() if now - e[0] >= self.interval]
        for key, _ in due:
            del self._seen[key]
        return [(key, int(entry[1])) for key, entry in due if entry[1]]
