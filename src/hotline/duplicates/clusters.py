"""Clusters for supervisors: groups of open cases that are likely one event.

Within each ward, cases are taken in time order and each joins the group whose first reports
it scores best with (as a suggestion would score the pair), at or above the threshold; each
group of two or more is a cluster (see `group`). Cases without a ward are left out: without a
place, text alone would join every report of a common problem across the province.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.permissions import Permission, require
from hotline.auth.service import Actor
from hotline.cases.medical import CLUSTER_PURPOSE
from hotline.cases.models import Case, CaseStatus
from hotline.duplicates.service import (
    CANDIDATE_COLUMNS,
    CANDIDATE_STATUSES,
    Candidate,
    candidate_of,
    log_care_reads,
)
from hotline.duplicates.similarity import Match, score_pair
from hotline.errors import InvalidInput
from hotline.site import site_of

MAX_PERIOD = timedelta(days=31)
# Pairwise scoring is quadratic per ward: bound the cases read so one request stays quick.
MAX_CASES = 5000
NEIGHBOURS = 8
REPRESENTATIVES = 3


@dataclass
class ClusterMember:
    case: Candidate
    match: Match | None  # against the suggested primary; None for the primary itself


@dataclass
class Cluster:
    ward_code: str
    primary: Candidate
    members: list[ClusterMember] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.members)


@dataclass
class Clusters:
    items: list[Cluster]
    cases_read: int
    truncated: bool


def suggested_primary(cases: list[Candidate]) -> Candidate:
    """The answered one, else one already with a unit, else the oldest: work is not redone."""
    forwarded = {CaseStatus.FORWARDED.value, CaseStatus.ACCEPTED.value}
    return min(
        cases,
        key=lambda c: (
            c.status != CaseStatus.RESOLVED.value,
            not (c.ever_forwarded or c.status in forwarded),
            c.created_at,
            c.id,
        ),
    )


async def clusters_for(
    session: AsyncSession,
    *,
    actor: Actor,
    since: datetime,
    until: datetime,
    ward_code: str | None = None,
    category_code: str | None = None,
) -> Clusters:
    """`find_clusters` for those who merge duplicates (supervisors, administrators)."""
    require(
        actor,
        Permission.MERGE_DUPLICATES,
        "Cụm yêu cầu trùng dành cho trưởng ca và quản trị viên",
    )
    found = await find_clusters(
        session,
        since=since,
        until=until,
        ward_code=ward_code,
        category_code=category_code,
        actor=actor,
    )
    shown = (m.case for cluster in found.items for m in cluster.members)
    await log_care_reads(session, actor, shown, CLUSTER_PURPOSE)
    return found


async def find_clusters(
    session: AsyncSession,
    *,
    since: datetime,
    until: datetime,
    ward_code: str | None = None,
    category_code: str | None = None,
    actor: Actor | None = None,
) -> Clusters:
    """Likely-duplicate groups among open cases created in [since, until], biggest first."""
    if until <= since:
        raise InvalidInput("Thời điểm kết thúc phải sau thời điểm bắt đầu", field="to")
    if until - since > MAX_PERIOD:
        raise InvalidInput("Chỉ xem cụm trùng trong tối đa 31 ngày", field="from")
    site = site_of(session)
    stmt = select(*CANDIDATE_COLUMNS).where(
        Case.created_at >= since,
        Case.created_at <= until,
        Case.status.in_(CANDIDATE_STATUSES),
        Case.ward_code.is_not(None),
    )
    if ward_code is not None:
        stmt = stmt.where(Case.ward_code == ward_code)
    if category_code is not None:
        stmt = stmt.where(Case.category_code == category_code)
    stmt = stmt.order_by(Case.created_at.desc()).limit(MAX_CASES + 1)
    rows = [candidate_of(r, actor) for r in (await session.execute(stmt)).all()]
    truncated = len(rows) > MAX_CASES
    rows = rows[:MAX_CASES]
    by_ward: dict[str, list[Candidate]] = {}
    for c in rows:
        by_ward.setdefault(str(c.place.ward_code), []).append(c)
    clusters: list[Cluster] = []
    for ward, cases in by_ward.items():
        for members in group(
            cases,
            window_hours=site.duplicate_window_hours,
            threshold=site.duplicate_threshold,
        ):
            primary = suggested_primary(members)
            cluster = Cluster(ward_code=ward, primary=primary)
            cluster.members.append(ClusterMember(primary, None))
            others = [
                ClusterMember(c, _score(primary, c, site.duplicate_window_hours))
                for c in members
                if c is not primary
            ]
            others.sort(key=lambda m: (-(m.match.score if m.match else 0), m.case.created_at))
            cluster.members += others
            clusters.append(cluster)
    clusters.sort(key=lambda c: (-c.size, c.primary.created_at))
    return Clusters(items=clusters, cases_read=len(rows), truncated=truncated)


def group(cases: list[Candidate], *, window_hours: int, threshold: float) -> list[list[Candidate]]:
    """One ward's cases in groups (two or more) that are likely one event.

    Cases are taken in time order; each joins the group whose first REPRESENTATIVES members
    it scores best with on average, if that average reaches the threshold, or starts a group.
    Scoring against a group's first reports, not any member, keeps groups from chaining
    ("power cut in alley 12" → "power cut at the market" → "market fire"). Only groups of
    recent cases sharing a content word with the case are tried, so a surge of thousands of
    reports stays near-linear.
    """
    cases = sorted(cases, key=lambda c: (c.created_at, c.id))
    window = timedelta(hours=window_hours)
    groups: list[list[int]] = []
    group_of: list[int] = []
    postings: dict[str, list[int]] = {}
    for i, case in enumerate(cases):
        words = set(case.features.content)
        tried: set[int] = set()
        for word in words:
            for j in postings.get(word, ())[-NEIGHBOURS:]:
                if case.created_at - cases[j].created_at <= window:
                    tried.add(group_of[j])
        best, best_score = -1, threshold
        for g in sorted(tried):
            reps = groups[g][:REPRESENTATIVES]
            mean = sum(_score(case, cases[r], window_hours).score for r in reps) / len(reps)
            if mean >= best_score:
                best, best_score = g, mean
        if best < 0:
            best = len(groups)
            groups.append([])
        groups[best].append(i)
        group_of.append(best)
        for word in words:
            postings.setdefault(word, []).append(i)
    return [[cases[i] for i in members] for members in groups if len(members) > 1]


def _score(a: Candidate, b: Candidate, window_hours: int, threshold: float = 0.0) -> Match:
    return score_pair(
        a.features,
        a.place,
        a.created_at,
        b.features,
        b.place,
        b.created_at,
        window_hours=window_hours,
        threshold=threshold,
    )
