"""Deterministic demo profiles: cases and calls that reproduce the published 2021 figures.

Every record is drawn inside its local (Asia/Ho_Chi_Minh) day, so the per-day totals chosen here
are exactly what a report grouping by local creation date will count.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from . import compose as C
from . import names as N
from .replies import ANSWERS, REJECT_REASONS
from .texts import TEMPLATES

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
PROFILES: tuple[str, ...] = ("binh-duong-2021", "ha-noi-2021", "recent")
CATEGORIES: tuple[str, ...] = tuple(TEMPLATES)
DIRECT_OUTCOMES = frozenset({"resolved_directly", "closed_directly", "open", "rejected"})
FORWARDED_OUTCOMES = frozenset({"forwarded_resolved", "forwarded_open", "closed_forwarded"})
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
URGENT_SHARE = {"cap_cuu": 1.0, "an_ninh_trat_tu": 0.15, "bao_cao_ca_benh": 0.06}


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
    handled_at: datetime | None
    answer: str | None
    call_index: int | None


@dataclass(frozen=True, slots=True)
class DemoCall:
    started_at: datetime
    line: str
    caller: str
    branch: str | None
    outcome: str
    wait_seconds: int
    talk_seconds: int


@dataclass(frozen=True)
class DemoProfile:
    name: str
    province_code: str
    start: date
    end: date
    cases: list[DemoCase]
    calls: list[DemoCall]


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
    forwarded_total: int | None = None  # exact count when the source gives it
    now: datetime | None = None


def _make_calls(rng: random.Random, spec: _Spec) -> tuple[list[DemoCall], list[dict]]:
    calls: list[DemoCall] = []
    pools: list[dict[str, list[int]]] = []
    for d, lines in enumerate(spec.call_days):
        day = spec.start + timedelta(days=d)
        base = datetime.combine(day, time(0), tzinfo=TZ).astimezone(UTC)
        limit = _limit(spec, day)
        surge = len(lines) / 2000  # longer queues on the heaviest days
        rows = sorted((_second(rng, limit), line) for line in lines)
        pool: dict[str, list[int]] = {"115": [], "doctor": [], "any": []}
        for sec, line in rows:
            branch, outcome = _call_route(rng, spec, line)
            wait = int(rng.expovariate(1 / (20 + 60 * surge)))
            talk = 0
            if outcome == "answered":
                talk = 30 + int(rng.lognormvariate(4.9, 0.6))
                key = "115" if line == "115" or branch == "115" else branch or "any"
                pool.setdefault(key, []).append(len(calls))
            elif outcome.startswith("transferred"):
                talk = rng.randint(5, 40)
            elif outcome == "abandoned_queue":
                wait += rng.randint(30, 300)
            elif outcome == "abandoned_menu":
                wait = rng.randint(0, 25)
            calls.append(
                DemoCall(
                    base + timedelta(seconds=sec), line, C.phone(rng), branch, outcome, wait, talk
                )
            )
        for v in pool.values():
            rng.shuffle(v)
        pools.append(pool)
    return calls, pools


def _call_route(rng: random.Random, spec: _Spec, line: str) -> tuple[str | None, str]:
    r = rng.random()
    if not spec.hanoi or line != "1022":
        if r < 0.84:
            return None, "answered"
        return None, "abandoned_queue" if r < 0.95 else "callback_requested"
    # Hà Nội IVR: 1 -> 115, 2 -> CDC, 3 -> doctor network, 4 -> operator.
    if r < 0.05:
        return None, "abandoned_menu"
    branch = rng.choices(("115", "cdc", "doctor", "operator"), (10, 18, 17, 55))[0]
    if branch == "115":
        return branch, "transferred_115"
    if branch == "cdc":
        return branch, "transferred_cdc"
    r = rng.random()
    if r < 0.88:
        return branch, "answered"
    return branch, "abandoned_queue" if r < 0.96 else "callback_requested"


def _limit(spec: _Spec, day: date) -> int:
    """Seconds of ``day`` that may hold records: the whole day, or up to ``now`` today."""
    if spec.now is None:
        return 86400
    midnight = datetime.combine(day, time(0), tzinfo=TZ)
    return max(0, min(86400, int((spec.now - midnight).total_seconds())))


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
        return "open"
    if r < direct[1]:
        return "resolved_directly"
    return "closed_directly" if r < direct[2] else "rejected"


def _pick_call(pools: dict[str, list[int]], category: str) -> int | None:
    first = {"cap_cuu": "115", "tu_van_suc_khoe": "doctor"}.get(category, "any")
    for key in (first, "any", "operator", "doctor", "115"):
        if pools.get(key):
            return pools[key].pop()
    return None


def _make_cases(rng: random.Random, spec: _Spec, calls: list[DemoCall], pools: list[dict]):
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
    cases: list[DemoCase] = []
    i = 0
    for d, count in enumerate(spec.case_days):
        day = spec.start + timedelta(days=d)
        base = datetime.combine(day, time(0), tzinfo=TZ).astimezone(UTC)
        limit = _limit(spec, day)
        last = base + timedelta(seconds=limit - 1)
        day_cases = []
        for _ in range(count):
            cat = cats[i]
            channel = "phone" if cat == "cap_cuu" and rng.random() < 0.9 else None
            channel = channel or rng.choices(channels, channel_w)[0]
            call_index = _pick_call(pools[d], cat) if channel == "phone" else None
            if call_index is not None:
                call = calls[call_index]
                created = min(call.started_at + timedelta(seconds=call.wait_seconds), last)
                phone = call.caller
            else:
                if channel == "phone":
                    channel = "zalo"  # no answered call left that day: it came in as a message
                created = base + timedelta(seconds=_second(rng, limit))
                phone = C.phone(rng)
            code, ward_name = rng.choices(ward_items, cum_weights=ward_cum)[0]
            addr = C.address(rng, spec.hanoi)
            ctx = C.context(rng, spec.hanoi, ward_name, addr)
            age = None if spec.now is None else (spec.now - created).total_seconds() / 3600
            outcome = _outcome(rng, i in forwarded, age)
            handled, answer = _handle(rng, cat, outcome, created, ctx)
            if handled is not None and spec.now is not None and handled > spec.now:
                outcome, handled, answer = "open", None, None
            urgent = rng.random() < URGENT_SHARE.get(cat, 0.0)
            description = C.describe(rng, cat, channel, ctx)
            day_cases.append(
                DemoCase(
                    created,
                    channel,
                    cat,
                    urgent,
                    description,
                    code,
                    addr,
                    ctx["contact"],
                    phone,
                    outcome,
                    handled,
                    answer,
                    call_index,
                )
            )
            i += 1
        day_cases.sort(key=lambda c: c.created_at)
        cases.extend(day_cases)
    return cases


def _handle(
    rng: random.Random, cat: str, outcome: str, created: datetime, ctx: dict[str, str]
) -> tuple[datetime | None, str | None]:
    if outcome == "open":
        return None, None
    if cat == "cap_cuu":
        minutes = rng.uniform(1, 15)
    elif outcome in FORWARDED_OUTCOMES:
        minutes = 5 + min(rng.expovariate(1 / 60), 600)
    else:
        minutes = 2 + min(rng.expovariate(1 / 30), 480)
    handled = created + timedelta(minutes=minutes)
    if outcome == "forwarded_open":
        return handled, None
    if outcome == "rejected":
        return handled, rng.choice(REJECT_REASONS)
    return handled, rng.choice(ANSWERS[cat]).format_map(ctx)


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
        call_days=[_lines(a, t) for a, t in zip(on_115, totals, strict=True)],
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
        forwarded_total=507,
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
    calls, pools = _make_calls(rng, spec)
    cases = _make_cases(rng, spec, calls, pools)
    return DemoProfile(
        name=spec.name,
        province_code=f"{spec.province:02d}",
        start=spec.start,
        end=spec.start + timedelta(days=spec.days - 1),
        cases=cases,
        calls=calls,
    )
