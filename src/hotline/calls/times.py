"""The times of a call recorded through the API must be ones that can have happened: a
start, an answer and an end that are not in the future, in that order, within a day. A
record with impossible times would be counted in quarter-hours still to come, or with a
negative talk time, by the reports and the forecast. The same rules at creation
(`POST /api/v1/calls`) as when a call in progress is ended (`PATCH`, finishing.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from hotline.errors import InvalidInput

# How far ahead of the server's clock a client's clock may run: beyond it a time has not
# come yet.
CLOCK_SKEW = timedelta(minutes=5)
LONGEST_CALL = timedelta(days=1)  # service.MAX_CALL_SECONDS


def _aware(at: datetime | None, field: str) -> None:
    if at is not None and at.tzinfo is None:
        raise InvalidInput("Thời điểm phải có múi giờ", field=field)


def check_call_times(
    *, started_at: datetime, answered_at: datetime | None, ended_at: datetime | None, now: datetime
) -> None:
    """Refuse (422 naming the field) a time without an offset, a start or an answer in the
    future (beyond CLOCK_SKEW), an answer before the start, and an end that check_end
    refuses."""
    _aware(started_at, "started_at")
    _aware(answered_at, "answered_at")
    _aware(ended_at, "ended_at")
    if started_at > now + CLOCK_SKEW:
        raise InvalidInput("Thời điểm bắt đầu không được ở tương lai", field="started_at")
    if answered_at is not None:
        if answered_at < started_at:
            raise InvalidInput(
                "Cuộc gọi không thể được trả lời trước khi bắt đầu", field="answered_at"
            )
        if answered_at > now + CLOCK_SKEW:
            raise InvalidInput("Thời điểm trả lời không được ở tương lai", field="answered_at")
    if ended_at is not None:
        check_end(started_at=started_at, answered_at=answered_at, ended_at=ended_at, now=now)


def check_end(
    *, started_at: datetime, answered_at: datetime | None, ended_at: datetime, now: datetime
) -> None:
    """Refuse (422 naming `ended_at`) an end before the start or the answer, in the future
    (beyond CLOCK_SKEW), or more than a day after the start."""
    _aware(ended_at, "ended_at")
    if ended_at < started_at:
        raise InvalidInput("Cuộc gọi không thể kết thúc trước khi bắt đầu", field="ended_at")
    if answered_at is not None and ended_at < answered_at:
        raise InvalidInput("Cuộc gọi không thể kết thúc trước khi được trả lời", field="ended_at")
    if ended_at > now + CLOCK_SKEW:
        raise InvalidInput("Thời điểm kết thúc không được ở tương lai", field="ended_at")
    if ended_at - started_at > LONGEST_CALL:
        raise InvalidInput("Cuộc gọi không dài quá một ngày", field="ended_at")
