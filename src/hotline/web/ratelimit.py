"""Throttling per client address (in-process): failed sign-ins, and public pages.

Each web process keeps its own window, so with N processes an attacker gets at most N times
the allowance; a shared store (Redis) can replace this when the deployment scales out.
"""

from __future__ import annotations

import time
from collections import deque

from hotline.errors import DomainError


class TooManyAttempts(DomainError):
    status = 429
    title = "Quá nhiều lần thử"


class FailureLimiter:
    def __init__(self, max_failures: int = 10, window_seconds: float = 900.0) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self._failures: dict[tuple[str, str], deque[float]] = {}

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        now = time.monotonic()
        q = self._failures.setdefault(key, deque())
        while q and q[0] < now - self.window:
            q.popleft()
        return q

    def check(self, client: str, username: str) -> None:
        """Refuse further attempts once the window holds too many failures."""
        q = self._recent((client, username.strip().lower()))
        if len(q) >= self.max_failures:
            wait = int(q[0] + self.window - time.monotonic()) + 1
            raise TooManyAttempts(
                f"Đăng nhập sai quá nhiều lần, hãy thử lại sau {max(1, wait // 60)} phút",
                field="username",
            )

    def failed(self, client: str, username: str) -> None:
        self._recent((client, username.strip().lower())).append(time.monotonic())
        if len(self._failures) > 100_000:
            self._failures.clear()

    def succeeded(self, client: str, username: str) -> None:
        self._failures.pop((client, username.strip().lower()), None)


class TooManyRequests(DomainError):
    status = 429
    title = "Quá nhiều yêu cầu"


class RequestLimiter:
    """At most `per_minute` requests per client address in any 60 s, for endpoints anyone
    may call without signing in (the FAQ): a scraper or a loop cannot take the database."""

    def __init__(self, per_minute: int = 120) -> None:
        self.per_minute = per_minute
        self._hits: dict[str, deque[float]] = {}

    def hit(self, client: str) -> None:
        now = time.monotonic()
        q = self._hits.setdefault(client, deque())
        while q and q[0] < now - 60.0:
            q.popleft()
        if len(q) >= self.per_minute:
            wait = int(q[0] + 60.0 - now) + 1
            raise TooManyRequests(f"Bạn gửi quá nhiều yêu cầu, hãy thử lại sau {wait} giây")
        q.append(now)
        if len(self._hits) > 100_000:
            self._hits.clear()
