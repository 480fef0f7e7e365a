"""Deterministic demo profiles: cases and calls that reproduce the published 2021 figures.

Every record is drawn inside its local (Asia/Ho_Chi_Minh) day, so the per-day totals chosen here
are exactly what a report grouping by local creation date will count.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hotline.directory.defaults import DEFAULT_CATEGORIES
from hotline.directory.models import UnitType

from . import compose as C
from . import names as N
from .replies import ANSWERS, REJECT_REASONS
from .texts import TEMPLATES

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
PROFILES: tuple[str, ...] = ("binh-duong-2021", "ha-noi-2021", "recent")
CATEGORIES: tuple[str, ...] = tuple(TEMPLATES)
DIRECT_OUTCOMES = frozenset(
    {"resolved_directly", "closed_directly", "open", "in_progress", "rejected"}
)
FORWARDED_OUTCOMES = frozenset(
    {"forwarded_resolved", "forwarded_open", "forwarded_accepted", "closed_forwarded"}
)
# Forwarding deadlines and the categories a ward People's Committee handles, as the directory
# seeds them (the loader reads the deadlines back from the database).
FORWARD_HOURS = {c[0]: c[5] for c in DEFAULT_CATEGORIES}
WARD_CATEGORIES = frozenset(c[0] for c in DEFAULT_CATEGORIES if c[4] == UnitType.WARD_COMMITTEE)
HA_NOI_LINES = ("1022", "0889556655", "0889557755")

# Calls per hour of day: quiet nights, a morning peak and a long afternoon (08-20h busiest).
HOUR_WEIGHTS = (
    1,
    0.6,
    0.5,
    0.5,
    0.7,
    1.5,
    3,
    5,
    8,
    9,
    9,
    8,
    6,
    6,
    8,
    8,
    8,
    7,
    6,
    6,
    5,
    4,
    2.5,
    1.5,
)
_HOUR_CUM = tuple(sum(HOUR_WEIGHTS[: i + 1]) for i in range(24))


# Share of "other" requests in Bình Dương; the article names F0/F1, security and health advice.
BD_OTHER_WEIGHTS = {
    "bao_cao_ca_benh": 22, "tu_van_suc_khoe": 20, "an_ninh_trat_tu": 12, "chinh_sach_ho_tro": 12,
    "phan_anh_vi_pham": 8, "xet_nghiem": 7, "co_so_cach_ly": 6, "thong_tin_chi_dao": 5,
    "di_lai_giay_to": 4, "tiem_vac_xin": 2, "khac": 2,
}  # fmt: skip
# Hà Nội's hotline was mostly violation reports, travel papers, vaccination and policy questions.
HN_WEIGHTS = {
    "phan_anh_vi_pham": 26, "di_lai_giay_to": 14, "tiem_vac_xin": 11, "tu_van_suc_khoe": 9,
    "chinh_sach_ho_tro": 8, "bao_cao_ca_benh": 8, "xet_nghiem": 6, "ho_tro_kho_khan": 5,
    "thong_tin_chi_dao": 5, "cap_cuu": 2, "an_ninh_trat_tu": 2, "co_so_cach_ly": 2, "khac": 2,
}  # fmt: skip
RECENT_WEIGHTS = {
    "phan_anh_vi_pham": 18, "khac": 16, "an_ninh_trat_tu": 12, "thong_tin_chi_dao": 10,
    "chinh_sach_ho_tro": 10, "tu_van_suc_khoe": 8, "ho_tro_kho_khan": 8, "tiem_vac_xin": 5,
    "di_lai_giay_to": 4, "cap_cuu": 3, "xet_nghiem": 3, "bao_cao_ca_benh": 2, "co_so_cach_ly": 1,
}  # fmt: skip
# Relative chance of being forwarded: violations and emergencies leave the hotline at once,
# policy and directive questions are answered from the knowledge base.
FORWARD_WEIGHT = {
    "cap_cuu": 0.9, "phan_anh_vi_pham": 0.85, "ho_tro_kho_khan": 0.7, "an_ninh_trat_tu": 0.65,
    "bao_cao_ca_benh": 0.6, "co_so_cach_ly": 0.5, "xet_nghiem": 0.3, "tiem_vac_xin": 0.25,
    "tu_van_suc_khoe": 0.3, "di_lai_giay_to": 0.2, "khac": 0.08, "chinh_sach_ho_tro": 0.06,
    "thong_tin_chi_dao": 0.03,
}  # fmt: skip
# A fight in progress, a case nobody has reached, an old person alone without food (a welfare
# check) or a crowd gathering right now are urgent whatever their category (docs/domain.md).
URGENT_SHARE = {
    "cap_cuu": 1.0, "an_ninh_trat_tu": 0.15, "bao_cao_ca_benh": 0.06, "ho_tro_kho_khan": 0.04,
    "phan_anh_vi_pham": 0.03,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class DemoCase:
    created_at: datetime
    channel: str
    category: str
    urgent: bool
    description: str
    ward_code: str
    address: str
    contact_name: str
    contact_phone: str
    outcome: str
    # When the hotline acted: took it (in_progress), answered, rejected or forwarded it.
    handled_at: datetime | None
    answer: str | None
    call_index: int | None
    # Index in DemoProfile.staff of the operator who recorded / holds the case.
    assignee: int | None = None
    # A forwarding's life at the unit: accepted, resolved; and when the hotline closed it.
    accepted_at: datetime | None = None
    finished_at: datetime | None = None
    closed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class DemoCall:
    started_at: datetime
    line: str
    caller: str
    branch: str | None
    outcome: str
    wait_seconds: int
    talk_seconds: int
    menu_path: str = ""
    agent: int | None = None  # index in DemoProfile.staff of who answered


@dataclass(frozen=True, slots=True)
class StaffMember:
    username: str
    full_name: str
    role: str  # "operator" or "doctor"


@dataclass(frozen=True)
class DemoProfile:
    name: str
    province_code: str
    start: date
    end: date
    cases: list[DemoCase]
    calls: list[DemoCall]
    staff: tuple[StaffMember, ...] = ()
    demo_ward: str | None = None  # the ward whose People's Committee the demo officer serves


def allocate(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder)."""
    s = sum(weights)
    raw = [total * w / s for w in weights]
    out = [int(r) for r in raw]
    # Zero-weight slots (a day with no time left yet) never receive a remainder.
    order = sorted(
        (i for i in range(len(raw)) if weights[i] > 0), key=lambda i: raw[i] - out[i], reverse=True
    )
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


def _ramp(rng: random.Random, days: int, lo: float, hi: float, noise: float = 0.08) -> list[float]:
    step = (hi - lo) / max(days - 1, 1)
    return [(lo + step * i) * (1 + rng.uniform(-noise, noise)) for i in range(days)]


def _second(rng: random.Random, limit: int = 86400) -> int:
    """A second of the local day drawn from the hour profile, strictly below ``limit``."""
    if limit >= 86400:
        return rng.choices(range(24), cum_weights=_HOUR_CUM)[0] * 3600 + rng.randrange(3600)
    if limit <= 0:
        raise ValueError("no time left in the day")
    hours = -(-limit // 3600)
    h = rng.choices(range(hours), cum_weights=_HOUR_CUM[:hours])[0]
    return h * 3600 + rng.randrange(min(3600, limit - h * 3600))


# --- The phone line -------------------------------------------------------------------------
#
# Routing follows the phone configuration's defaults (phoneconfig/defaults.py): 1 → the 115
# centre and 2 → CDC are transferred by the voice menu, 3 → the doctor queue, 4 (or no key) →
# the operator queue; a caller who hangs up in the menu has no branch. Bình Dương's 115 was a
# number of its own feeding the same system (7,833 calls): its calls are the "115" branch, and
# its 1022 menu offered doctors and operators. Hà Nội's two older numbers went straight to
# operators. The doctor network's consult group took calls 09–11, 15–17 and 19–21 (Hà Nội
# source; HOTLINE_SIP_OPENING_HOURS' default), so Hà Nội doctor calls outside those hours end
# as `outside_hours`, a third of them asking for a callback.
#
# Queue waits: each queue, hour by hour, is an M/M/N (Erlang C) queue. The hour's arrivals are
# the calls drawn for it; the handle time is talk plus 30 s of wrap-up; the shift lead staffs
# N = ceil(load / target occupancy) people, and the target rises with the hour's and the day's
# load (a surge line runs its people hot at peak: up to ~0.9 in Bình Dương's August), except
# Hà Nội 2021, whose source gives the staffing: 6 operators a shift. A caller waits with
# Erlang C's probability, an exponential time of mean handle/(N − load) (else rings a free
# phone for 2–8 s); callers' patience is exponential (Palm's model of abandonment, mean 4 min
# on 1022, 90 s on 115) and, after HOTLINE_SIP_CALLBACK_AFTER (60 s) in the queue, some press 1
# for a callback. Erlang C ignores that abandonment relieves the queue, so the waits err long.
# The result (tests/demo/test_queue_figures.py): Bình Dương's 55,553 calls show a service
# level (answered within 20 s / offered) around 60 % and an average speed of answer near
# 40 s, worse at the daytime peaks of the heaviest August days; its 115 calls are answered
# faster. Talk times are log-normal (median ~2.5 min on 1022, ~1.5 min on 115, ~4 min with a
# doctor).

CALLBACK_AFTER = 60  # HOTLINE_SIP_CALLBACK_AFTER's default
HA_NOI_CONSULT_HOURS = ((9, 11), (15, 17), (19, 21))
WRAP_UP = 30


@dataclass(frozen=True)
class QueueModel:
    talk: tuple[float, float, float]  # seconds: base + lognormal(mu, sigma)
    quiet_occupancy: float  # staffing target in a quiet hour
    peak_occupancy: float  # … at the busiest hour of the busiest day
    patience: float  # mean seconds before a caller hangs up
    callback_share: float  # of callers still waiting after CALLBACK_AFTER, who press 1
    prefix: str  # usernames: prefix + 01, 02, …
    role: str = "operator"
    min_staff: int = 2
    fixed_staff: int | None = None
    hours: tuple[tuple[int, int], ...] | None = None  # opening hours, local; None: 24/7

    @property
    def handle(self) -> float:
        base, mu, sigma = self.talk
        return base + math.exp(mu + sigma * sigma / 2) + WRAP_UP

    def open_at(self, hour: int) -> bool:
        return self.hours is None or any(a <= hour < b for a, b in self.hours)


OPERATOR_Q = QueueModel((30, 4.8, 0.6), 0.8, 0.94, 360, 0.25, "dtv")
EMERGENCY_Q = QueueModel((20, 4.2, 0.5), 0.5, 0.7, 150, 0.0, "cc115-")
DOCTOR_Q = QueueModel((60, 5.2, 0.5), 0.72, 0.9, 420, 0.3, "bacsi", role="doctor")
QUEUES_BD = {"operator": OPERATOR_Q, "115": EMERGENCY_Q, "doctor": DOCTOR_Q}
QUEUES_HN = {
    "operator": QueueModel((30, 4.8, 0.6), 0.6, 0.8, 240, 0.25, "dtv", fixed_staff=6),
    "doctor": QueueModel(
        (60, 5.2, 0.5), 0.6, 0.8, 300, 0.3, "bacsi", role="doctor", hours=HA_NOI_CONSULT_HOURS
    ),
}
QUEUES_RECENT = {
    "operator": QueueModel((30, 4.8, 0.6), 0.55, 0.8, 240, 0.25, "dtv", min_staff=3),
    "doctor": QueueModel(
        (60, 5.2, 0.5), 0.5, 0.7, 300, 0.3, "bacsi", role="doctor", hours=HA_NOI_CONSULT_HOURS
    ),
}


@dataclass
class _Spec:
    """Per-profile knobs; the builders below fill them from the published figures."""

    name: str
    province: int
    start: date
    days: int
    hanoi: bool
    case_days: list[int]
    categories: list[str]  # exact multiset, shuffled over the days
    channels: dict[str, float]
    call_days: list[list[str]]  # per day, the line of each call
    queues: dict[str, QueueModel]
    forwarded_total: int | None = None  # exact count when the source gives it
    now: datetime | None = None


def erlang_c(n: int, load: float) -> float:
    """Probability that a call waits in an M/M/n queue offered ``load`` Erlangs."""
    if load <= 0:
        return 0.0
    if load >= n:
        return 1.0
    b = 1.0  # Erlang B by its recursion, then C from B
    for k in range(1, n + 1):
        b = load * b / (k + load * b)
    return n * b / (n - load * (1 - b))


def _route(rng: random.Random, spec: _Spec, line: str) -> tuple[str | None, str, str | None]:
    """(branch, menu keys, outcome if decided in the menu) of one call."""
    if line == "115":
        return "115", "", None
    if spec.hanoi and line != "1022":
        return "operator", "", None  # Hà Nội's older numbers: straight to operators
    if rng.random() < 0.03:
        return None, "", "abandoned_menu"
    if spec.hanoi:
        branch = rng.choices(("115", "cdc", "doctor", "operator"), (10, 18, 17, 55))[0]
    else:
        branch = rng.choices(("doctor", "operator"), (18, 82))[0]
    if branch == "115":
        return branch, "1", "transferred_115"
    if branch == "cdc":
        return branch, "2", "transferred_cdc"
    if branch == "doctor":
        return branch, "3", None
    return branch, "" if rng.random() < 0.06 else "4", None  # no key: the fallback queue


def _make_calls(rng: random.Random, spec: _Spec) -> tuple[list[DemoCall], list[dict], _Staffing]:
    queues = spec.queues
    routed: list[list[tuple[int, str, str | None, str, str | None]]] = []
    load: dict[tuple[int, int, str], int] = {}
    for d, lines in enumerate(spec.call_days):
        day = spec.start + timedelta(days=d)
        rows = []
        for sec, line in sorted((_second(rng, _limit(spec, day)), line) for line in lines):
            branch, keys, outcome = _route(rng, spec, line)
            if outcome is None and branch is not None and not queues[branch].open_at(sec // 3600):
                outcome = "callback_requested" if rng.random() < 0.33 else "outside_hours"
            if outcome is None and branch is not None:
                key = (d, sec // 3600, branch)
                load[key] = load.get(key, 0) + 1
            rows.append((sec, line, branch, keys, outcome))
        routed.append(rows)
    staffing = _Staffing.plan(spec, load)
    calls: list[DemoCall] = []
    pools: list[dict[str, list[int]]] = []
    for d, rows in enumerate(routed):
        base = datetime.combine(spec.start + timedelta(days=d), time(0), tzinfo=TZ).astimezone(UTC)
        pool: dict[str, list[int]] = {}
        for sec, line, branch, keys, outcome in rows:
            wait = talk = 0
            agent = None
            if outcome is None:
                assert branch is not None
                q = queues[branch]
                n, erlangs = staffing.size[(d, sec // 3600, branch)]
                if rng.random() < erlang_c(n, erlangs):
                    waited = rng.expovariate(max(n - erlangs, 0.3) / q.handle)
                else:
                    waited = rng.uniform(2, 8)  # a free phone rings
                patience = rng.expovariate(1 / q.patience)
                if min(waited, patience) > CALLBACK_AFTER and rng.random() < q.callback_share:
                    outcome, wait = "callback_requested", CALLBACK_AFTER + rng.randint(3, 12)
                elif waited > patience:
                    outcome, wait = "abandoned_queue", max(1, int(patience))
                else:
                    outcome, wait = "answered", int(waited)
                    base_s, mu, sigma = q.talk
                    talk = int(base_s + rng.lognormvariate(mu, sigma))
                    agent = rng.choice(staffing.on_duty(d, sec // 3600, branch))
                    pool.setdefault(branch, []).append(len(calls))
            elif outcome.startswith("transferred"):
                talk = rng.randint(5, 40)
            elif outcome == "abandoned_menu":
                wait = 0
            started = base + timedelta(seconds=sec)
            calls.append(
                DemoCall(started, line, C.phone(rng), branch, outcome, wait, talk, keys, agent)
            )
        for v in pool.values():
            rng.shuffle(v)
        pools.append(pool)
    return calls, pools, staffing


@dataclass
class _Staffing:
    """Who works each queue, hour by hour: N people of a roster in three 8-hour shifts."""

    size: dict[tuple[int, int, str], tuple[int, float]]  # (day, hour, queue) → (N, Erlangs)
    rosters: dict[str, list[int]]  # queue → staff indices
    staff: list[StaffMember]

    @classmethod
    def plan(cls, spec: _Spec, load: dict[tuple[int, int, str], int]) -> _Staffing:
        day_calls = [len(lines) for lines in spec.call_days]
        busiest = max(day_calls) or 1
        size: dict[tuple[int, int, str], tuple[int, float]] = {}
        for (d, hour, branch), n_calls in load.items():
            q = spec.queues[branch]
            erlangs = n_calls * q.handle / 3600
            peak = HOUR_WEIGHTS[hour] / max(HOUR_WEIGHTS) * day_calls[d] / busiest
            target = q.quiet_occupancy + (q.peak_occupancy - q.quiet_occupancy) * peak
            n = q.fixed_staff or max(q.min_staff, math.ceil(erlangs / target))
            size[(d, hour, branch)] = (n, erlangs)
        staff: list[StaffMember] = []
        rosters: dict[str, list[int]] = {}
        rng = random.Random(spec.name)  # names apart from the profile's own draws
        for branch, q in spec.queues.items():
            # Three shifts a day: the roster is the busiest hour's team, three times over
            # (fewer for a fixed team, which the source gives per shift).
            needed = max((n for (_, _, b), (n, _) in size.items() if b == branch), default=0)
            people = needed * 3 if q.fixed_staff else needed * 2
            rosters[branch] = []
            for i in range(people):
                name = f"{q.prefix}{i + 1:02d}"
                if q.role == "doctor" and i == 0:
                    name = "bacsi"  # the demo doctor login
                rosters[branch].append(len(staff))
                staff.append(StaffMember(name, C.full_name(rng), q.role))
        return cls(size, rosters, staff)

    def on_duty(self, day: int, hour: int, branch: str) -> list[int]:
        roster = self.rosters[branch]
        n = min(self.size.get((day, hour, branch), (1, 0.0))[0], len(roster))
        shift = hour // 8
        start = (day * 3 + shift) * max(n, 1) % len(roster)
        return [roster[(start + i) % len(roster)] for i in range(max(n, 1))]


def _limit(spec: _Spec, day: date) -> int:
    """Seconds of ``day`` that may hold records: the whole day, or up to ``now`` today."""
    if spec.now is None:
        return 86400
    midnight = datetime.combine(day, time(0), tzinfo=TZ)
    return max(0, min(86400, int((spec.now - midnight).total_seconds())))


# --- Cases ----------------------------------------------------------------------------------


def _outcome(rng: random.Random, forwarded: bool, age_hours: float | None) -> str:
    r = rng.random()
    if age_hours is None or age_hours > 24 * 7:
        direct, fwd = (0.005, 0.25, 0.965), (0.04, 0.28)
    elif age_hours > 24:
        direct, fwd = (0.05, 0.42, 0.95), (0.3, 0.65)
    else:
        direct, fwd = (0.35, 0.8, 0.95), (0.7, 0.95)
    if forwarded:
        if r < fwd[0]:
            return "forwarded_open"
        return "forwarded_resolved" if r < fwd[1] else "closed_forwarded"
    if r < direct[0]:
        # Half the open cases wait for an operator, half are held by one.
        return "in_progress" if rng.random() < 0.5 else "open"
    if r < direct[1]:
        return "resolved_directly"
    return "closed_directly" if r < direct[2] else "rejected"


def _pick_call(pools: dict[str, list[int]], category: str) -> int | None:
    # Emergencies come from the 115 line where there is one; everything else from calls an
    # operator answered (doctors advise on the phone and do not record cases).
    for key in ("115", "operator") if category == "cap_cuu" else ("operator",):
        if pools.get(key):
            return pools[key].pop()
    return None


@dataclass
class _Draft:
    """A case before its place and words are drawn (pass 1 of _make_cases)."""

    created: datetime
    channel: str
    category: str
    urgent: bool
    phone: str
    call_index: int | None
    outcome: str
    handled: datetime | None
    assignee: int | None
    accepted: datetime | None = None
    finished: datetime | None = None
    closed: datetime | None = None
    ward: str | None = None


def _make_cases(
    rng: random.Random,
    spec: _Spec,
    calls: list[DemoCall],
    pools: list[dict],
    staffing: _Staffing,
) -> tuple[list[DemoCase], str]:
    ward_items, ward_weights = C.wards(spec.province, None if spec.hanoi else N.BINH_DUONG_WARDS)
    ward_cum = [sum(ward_weights[: i + 1]) for i in range(len(ward_weights))]
    channels, channel_w = tuple(spec.channels), tuple(spec.channels.values())
    cats = list(spec.categories)
    rng.shuffle(cats)
    if spec.forwarded_total is not None:
        # Weighted sampling without replacement (Efraimidis-Spirakis) hits the exact total
        # while keeping violations and emergencies the most forwarded.
        keys = [rng.random() ** (1 / FORWARD_WEIGHT[c]) for c in cats]
        order = sorted(range(len(cats)), key=keys.__getitem__, reverse=True)
        forwarded = set(order[: spec.forwarded_total])
    else:
        forwarded = {i for i, c in enumerate(cats) if rng.random() < FORWARD_WEIGHT[c]}
    drafts: list[list[_Draft]] = []
    i = 0
    for d, count in enumerate(spec.case_days):
        day = spec.start + timedelta(days=d)
        base = datetime.combine(day, time(0), tzinfo=TZ).astimezone(UTC)
        limit = _limit(spec, day)
        last = base + timedelta(seconds=limit - 1)
        day_drafts = []
        for _ in range(count):
            cat = cats[i]
            channel = "phone" if cat == "cap_cuu" and rng.random() < 0.9 else None
            channel = channel or rng.choices(channels, channel_w)[0]
            call_index = _pick_call(pools[d], cat) if channel == "phone" else None
            assignee: int | None
            if call_index is not None:
                call = calls[call_index]
                created = min(call.started_at + timedelta(seconds=call.wait_seconds), last)
                phone, assignee = call.caller, call.agent
            else:
                if channel == "phone":
                    channel = "zalo"  # no answered call left that day: it came in as a message
                created = base + timedelta(seconds=_second(rng, limit))
                phone = C.phone(rng)
                hour = (created - base).seconds // 3600
                assignee = rng.choice(staffing.on_duty(d, hour, "operator"))
            age = None if spec.now is None else (spec.now - created).total_seconds() / 3600
            draft = _Draft(
                created, channel, cat, rng.random() < URGENT_SHARE.get(cat, 0.0), phone,
                call_index, _outcome(rng, i in forwarded, age), None, assignee,
            )  # fmt: skip
            _timeline(rng, spec, draft)
            day_drafts.append(draft)
            i += 1
        drafts.append(day_drafts)
    flat = [x for day_drafts in drafts for x in day_drafts]
    demo_ward = _demo_ward(rng, spec, flat, ward_items, ward_weights, staffing)
    cases: list[DemoCase] = []
    for day_drafts in drafts:
        day_cases = []
        for x in day_drafts:
            if x.ward is None:
                x.ward = rng.choices(ward_items, cum_weights=ward_cum)[0][0]
            ward_name = dict(ward_items)[x.ward]
            addr = C.address(rng, spec.hanoi)
            ctx = C.context(rng, spec.hanoi, ward_name, addr)
            answer = _answer(rng, x.category, x.outcome, ctx)
            day_cases.append(
                DemoCase(
                    x.created, x.channel, x.category, x.urgent,
                    C.describe(rng, x.category, x.channel, ctx), x.ward, addr, ctx["contact"],
                    x.phone, x.outcome, x.handled, answer, x.call_index, x.assignee,
                    x.accepted, x.finished, x.closed,
                )
            )  # fmt: skip
        day_cases.sort(key=lambda c: c.created_at)
        cases.extend(day_cases)
    return cases, demo_ward


def _timeline(rng: random.Random, spec: _Spec, x: _Draft) -> None:
    """When the hotline and the unit acted on a case; what is in the future stays open."""
    now = spec.now
    if x.outcome == "open":
        return
    if x.outcome == "in_progress":
        x.handled = x.created + timedelta(minutes=1 + min(rng.expovariate(1 / 8), 60))
    elif x.category == "cap_cuu":
        x.handled = x.created + timedelta(minutes=rng.uniform(1, 15))
    elif x.outcome in FORWARDED_OUTCOMES:
        x.handled = x.created + timedelta(minutes=5 + min(rng.expovariate(1 / 60), 600))
    else:
        x.handled = x.created + timedelta(minutes=2 + min(rng.expovariate(1 / 30), 480))
    if now is not None and x.handled > now:
        x.outcome, x.handled = "open", None
        return
    if x.outcome not in FORWARDED_OUTCOMES:
        return
    # The unit accepts in a few minutes for an emergency, an hour or two for a 24-hour
    # category, and resolves in a share of the deadline: log-normal, median a third of it,
    # about 1 in 10 late (the worker's sweep flags those).
    hours = FORWARD_HOURS[x.category]
    accept = 1 + min(rng.expovariate(1 / (5 * hours)), 30 * hours)
    x.accepted = x.handled + timedelta(minutes=accept)
    x.finished = x.accepted + timedelta(hours=hours * min(rng.lognormvariate(-1.1, 0.8), 3.0))
    x.closed = x.finished + timedelta(minutes=rng.uniform(20, 360))
    if x.outcome == "forwarded_open":
        x.finished = x.closed = None
        if rng.random() < 0.45 or (now is not None and x.accepted > now):
            x.accepted = None  # still waiting for the unit to accept
        x.outcome = "forwarded_accepted" if x.accepted else "forwarded_open"
    elif now is not None and x.finished > now:
        x.finished = x.closed = None
        if x.accepted > now:
            x.accepted = None
        x.outcome = "forwarded_accepted" if x.accepted else "forwarded_open"
    elif x.outcome == "forwarded_resolved" or (now is not None and x.closed > now):
        x.outcome, x.closed = "forwarded_resolved", None


def _demo_ward(
    rng: random.Random,
    spec: _Spec,
    drafts: list[_Draft],
    ward_items: tuple,
    ward_weights: tuple,
    staffing: _Staffing,
) -> str:
    """The demo officer's ward (the busiest one of the list) gets a share of the open
    forwardings a ward People's Committee handles, the demo operator the newest open cases
    held by an operator, the doctors the newest consults: each demo login opens on work."""
    demo_ward = ward_items[ward_weights.index(max(ward_weights))][0]
    open_ward = [
        x
        for x in drafts
        if x.category in WARD_CATEGORIES and x.outcome in ("forwarded_open", "forwarded_accepted")
    ]
    rng.shuffle(open_ward)
    open_ward.sort(key=lambda x: not x.urgent)  # stable: urgent ones first, else random
    for state in ("forwarded_open", "forwarded_accepted"):
        of_state = [x for x in open_ward if x.outcome == state]
        for x in of_state[: max(4, len(of_state) // 4)]:
            x.ward = demo_ward
    # The doctor network's newest consults are still with the doctors.
    consults = [
        x for x in drafts if x.category == "tu_van_suc_khoe" and x.outcome in FORWARDED_OUTCOMES
    ]
    for x in sorted(consults, key=lambda x: x.created)[-3:]:
        if x.finished is not None:
            x.outcome, x.finished, x.closed = "forwarded_accepted", None, None
    operators = staffing.rosters.get("operator")
    if operators:
        held = sorted((x for x in drafts if x.outcome == "in_progress"), key=lambda x: x.created)
        for x in held[-3:]:
            x.assignee = operators[0]  # dtv01
    return demo_ward


def _answer(rng: random.Random, cat: str, outcome: str, ctx: dict[str, str]) -> str | None:
    if outcome in ("open", "in_progress", "forwarded_open", "forwarded_accepted"):
        return None
    if outcome == "rejected":
        return rng.choice(REJECT_REASONS)
    return rng.choice(ANSWERS[cat]).format_map(ctx)


def _lines(n115: int, total: int) -> list[str]:
    return ["115"] * n115 + ["1022"] * (total - n115)


def _binh_duong(rng: random.Random) -> _Spec:
    # 19-31/7 are lighter: 55,553 calls in all but almost 50,000 of them in 1-16/8.
    july, aug = _ramp(rng, 13, 1.0, 2.2), _ramp(rng, 16, 0.85, 1.15)
    totals = allocate(5953, july) + allocate(49600, aug)
    on_115 = allocate(1533, july) + allocate(6300, aug)
    others = allocate(3471, list(BD_OTHER_WEIGHTS.values()))
    cats = ["ho_tro_kho_khan"] * 3898 + ["cap_cuu"] * 1039
    for cat, k in zip(BD_OTHER_WEIGHTS, others, strict=True):
        cats += [cat] * k
    return _Spec(
        name="binh-duong-2021", province=79, start=date(2021, 7, 19), days=29, hanoi=False,
        case_days=allocate(8408, [t**0.5 for t in totals]), categories=cats,
        channels={"phone": 52, "zalo": 16, "app": 10, "facebook": 8, "web": 7, "viber": 4,
                  "email": 3},
        call_days=[_lines(a, t) for a, t in zip(on_115, totals, strict=True)], queues=QUEUES_BD,
    )  # fmt: skip


def _by_weights(total: int, weights: Mapping[str, float]) -> list[str]:
    out: list[str] = []
    for cat, k in zip(weights, allocate(total, list(weights.values())), strict=True):
        out += [cat] * k
    return out


def _ha_noi(rng: random.Random) -> _Spec:
    case_days = allocate(2088, [0.82, 0.95, 1.05, 1.08, 1.1])
    call_days = [
        rng.choices(HA_NOI_LINES, (55, 25, 20), k=int(n * 1.2 * rng.uniform(0.97, 1.03)))
        for n in case_days
    ]
    return _Spec(
        name="ha-noi-2021", province=1, start=date(2021, 8, 19), days=5, hanoi=True,
        case_days=case_days, categories=_by_weights(2088, HN_WEIGHTS),
        channels={"phone": 64, "zalo": 24, "web": 12}, call_days=call_days,
        forwarded_total=507, queues=QUEUES_HN,
    )  # fmt: skip


def _recent(rng: random.Random, now: datetime) -> _Spec:
    today = now.astimezone(TZ).date()
    start = today - timedelta(days=29)
    elapsed = (now - datetime.combine(today, time(0), tzinfo=TZ)).total_seconds()
    hour = int(elapsed // 3600)
    done = _HOUR_CUM[hour - 1] if hour else 0.0
    frac = (done + HOUR_WEIGHTS[hour] * (elapsed % 3600) / 3600) / _HOUR_CUM[-1]
    weights = []
    for d in range(30):
        day = start + timedelta(days=d)
        w = (0.75 if day.weekday() >= 5 else 1.0) * rng.uniform(0.85, 1.15)
        weights.append(w * frac if day == today else w)
    n_cases, n_calls = round(54 * sum(weights)), round(216 * sum(weights))
    return _Spec(
        name="recent", province=1, start=start, days=30, hanoi=True,
        case_days=allocate(n_cases, weights), categories=_by_weights(n_cases, RECENT_WEIGHTS),
        channels={"phone": 50, "zalo": 20, "web": 10, "app": 8, "facebook": 5, "email": 3,
                  "sms": 2, "walk_in": 2},
        call_days=[["1022"] * k for k in allocate(n_calls, weights)], now=now,
        queues=QUEUES_RECENT,
    )  # fmt: skip


def build_profile(name: str, *, seed: int = 1022, now: datetime | None = None) -> DemoProfile:
    """Build one named demo profile; the same ``seed`` (and ``now``) gives identical output."""
    rng = random.Random(seed)
    if name == "binh-duong-2021":
        spec = _binh_duong(rng)
    elif name == "ha-noi-2021":
        spec = _ha_noi(rng)
    elif name == "recent":
        now = now or datetime.now(UTC)
        spec = _recent(rng, now if now.tzinfo else now.replace(tzinfo=UTC))
    else:
        raise ValueError(f"unknown demo profile {name!r}; expected one of {PROFILES}")
    calls, pools, staffing = _make_calls(rng, spec)
    cases, demo_ward = _make_cases(rng, spec, calls, pools, staffing)
    return DemoProfile(
        name=spec.name,
        province_code=f"{spec.province:02d}",
        start=spec.start,
        end=spec.start + timedelta(days=spec.days - 1),
        cases=cases,
        calls=calls,
        staff=tuple(staffing.staff),
        demo_ward=demo_ward,
    )
