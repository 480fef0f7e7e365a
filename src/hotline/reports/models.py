"""Incremental counters the reports read instead of scanning cases and calls.

Each row counts one bucket (local day and hour in the site's timezone, plus the
dimensions a report groups by). A bucket has several shards so concurrent writers
rarely wait on the same row; reports sum the shards.

Case intake on PostgreSQL does not touch `case_counter` at all: in a surge every request
lands in the same hour's bucket, and even sharded rows make concurrent intakes wait for each
other's commit. It appends a row to `case_counter_delta` instead (in the same transaction,
so nothing is lost), the worker folds those rows into `case_counter`, and reports add the
rows not folded yet: they stay exact to the last committed case.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base
from hotline.ids import BigId


class CaseCounter(Base):
    __tablename__ = "case_counter"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    hour: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    category_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    created: Mapped[int] = mapped_column(Integer, default=0)
    forwarded: Mapped[int] = mapped_column(Integer, default=0)
    urgent: Mapped[int] = mapped_column(Integer, default=0)


class CaseCounterDelta(Base):
    """Increments of `case_counter` not folded into it yet (see the module docstring)."""

    __tablename__ = "case_counter_delta"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    hour: Mapped[int] = mapped_column(SmallInteger)
    category_code: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20))
    created: Mapped[int] = mapped_column(Integer, default=0)
    forwarded: Mapped[int] = mapped_column(Integer, default=0)
    urgent: Mapped[int] = mapped_column(Integer, default=0)


class CallCounter(Base):
    __tablename__ = "call_counter"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    hour: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    line: Mapped[str] = mapped_column(String(20), primary_key=True)
    branch: Mapped[str] = mapped_column(String(20), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(24), primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    wait_seconds: Mapped[int] = mapped_column(Integer, default=0)
    talk_seconds: Mapped[int] = mapped_column(Integer, default=0)
    # Calls a person answered within 20 s of joining the queue (the service level).
    answered_20s: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class CallQuarterCounter(Base):
    """The calls each branch was offered per quarter-hour, for the staffing forecast.

    Keyed by UTC quarter-hour (`quarter` = Unix time // 900), not by local day and hour:
    every zone's offset is a whole number of quarter-hours, so each row falls in one local
    half-hour of any site timezone, and changing the site's timezone leaves the rows right.
    Counts the calls to the line that reached a branch (not those that ended outside
    hours), once each when the record is finished (calls/service.py), like `call_counter`.
    One row per branch and quarter-hour, no shards: its writers are the phone line's record
    writers (one task per line instance, off the media path) and the API, so a wait for the
    row's lock costs no caller anything, and the forecast reads one row per quarter-hour.
    """

    __tablename__ = "call_quarter_counter"

    branch: Mapped[str] = mapped_column(String(20), primary_key=True)
    quarter: Mapped[int] = mapped_column(Integer, primary_key=True)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    # Talk time of the answered calls; queue waits of every call (callers' patience).
    talk_seconds: Mapped[int] = mapped_column(Integer, default=0)
    wait_seconds: Mapped[int] = mapped_column(Integer, default=0)
    abandoned: Mapped[int] = mapped_column(Integer, default=0)  # hung up in the queue


class OperatorCounter(Base):
    """Answered calls and talk time per operator and local day."""

    __tablename__ = "operator_counter"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    operator_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    talk_seconds: Mapped[int] = mapped_column(Integer, default=0)


class UnitCounter(Base):
    __tablename__ = "unit_counter"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    unit_id: Mapped[int] = mapped_column(
        ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True
    )
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    received: Mapped[int] = mapped_column(Integer, default=0)
    resolved: Mapped[int] = mapped_column(Integer, default=0)
    overdue: Mapped[int] = mapped_column(Integer, default=0)
