"""The deploying site's facts that services need (timezone, province, limits).

Built once from Settings and attached to every session (`session.info["site"]`) by the
sessionmaker, so services reach it without reading the environment themselves.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property, partial
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.secret_key import session_secret
from hotline.settings import Settings


@dataclass(frozen=True)
class CareConfig:
    """Home care's configurable rules (settings `care_*`, docs/care.md)."""

    consult_min_years: int = 5
    consult_windows: tuple[str, ...] = ("09:00-11:00", "15:00-17:00", "19:00-21:00")
    default_capacity: int = 50
    warning_signs: str = "byt-4377-2021"
    eligibility: str = "byt-4038-2021"
    checkin_times: tuple[str, ...] = ("08:00", "16:00")
    checkin_remind_minutes: int = 60
    checkin_alert_minutes: int = 180

    @classmethod
    def from_settings(cls, settings: Settings) -> CareConfig:
        return cls(
            consult_min_years=settings.care_consult_min_years,
            consult_windows=tuple(settings.care_consult_windows),
            default_capacity=settings.care_default_capacity,
            warning_signs=settings.care_warning_signs,
            eligibility=settings.care_eligibility,
            checkin_times=tuple(settings.care_checkin_times),
            checkin_remind_minutes=settings.care_checkin_remind_minutes,
            checkin_alert_minutes=settings.care_checkin_alert_minutes,
        )


@dataclass(frozen=True)
class Site:
    timezone: ZoneInfo
    province_code: str
    attachments_dir: Path
    attachment_max_bytes: int
    counter_shards: int = 8
    # Knowledge base: chat channels may answer on their own above this score (off by default).
    kb_auto_answer: bool = False
    kb_auto_answer_threshold: float = 0.8
    duplicate_window_hours: int = 72
    duplicate_max_candidates: int = 300
    duplicate_threshold: float = 0.5
    care: CareConfig = field(default_factory=CareConfig)
    # The site's secret key (given, or the one made in the var directory), read only when
    # something needs it: a process that never signs anything never creates the key file.
    secret: Callable[[], str] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Site:
        return cls(
            timezone=ZoneInfo(settings.timezone),
            province_code=settings.site_province_code,
            attachments_dir=settings.attachments_dir,
            attachment_max_bytes=settings.attachment_max_bytes,
            counter_shards=settings.counter_shards,
            kb_auto_answer=settings.kb_auto_answer,
            kb_auto_answer_threshold=settings.kb_auto_answer_threshold,
            duplicate_window_hours=settings.duplicate_window_hours,
            duplicate_max_candidates=settings.duplicate_max_candidates,
            duplicate_threshold=settings.duplicate_threshold,
            care=CareConfig.from_settings(settings),
            secret=partial(session_secret, settings),
        )

    @cached_property
    def model_key(self) -> bytes:
        """Signs stored triage models (triage/model.py): HMAC(secret key, "triage-model")."""
        if self.secret is None:
            raise RuntimeError("this Site has no secret key (build it with Site.from_settings)")
        return hmac.new(self.secret().encode(), b"triage-model", hashlib.sha256).digest()

    def local(self, at: datetime) -> datetime:
        return at.astimezone(self.timezone)

    def local_day_hour(self, at: datetime) -> tuple[date, int]:
        local = at.astimezone(self.timezone)
        return local.date(), local.hour

    def shard(self) -> int:
        return random.randrange(self.counter_shards)


def site_of(session: AsyncSession) -> Site:
    site = session.info.get("site")
    if site is None:
        raise RuntimeError("session was not made by hotline.db.make_sessionmaker(engine, site)")
    assert isinstance(site, Site)
    return site
