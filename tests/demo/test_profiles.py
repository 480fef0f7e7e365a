"""The demo profiles must reproduce the published figures exactly, counted by local date."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from vietnam_provinces import Ward

from hotline.demo.profiles import (
    CATEGORIES,
    DIRECT_OUTCOMES,
    FORWARDED_OUTCOMES,
    PROFILES,
    DemoProfile,
    build_profile,
)
from hotline.demo.replies import ANSWERS, REJECT_REASONS, RETURN_REASONS
from hotline.demo.texts import TEMPLATES

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
FIXED_NOW = datetime(2025, 11, 20, 8, 30, tzinfo=UTC)  # 15:30 in Hà Nội


@cache
def profile(name: str) -> DemoProfile:
    return build_profile(name, now=FIXED_NOW if name == "recent" else None)


def local(dt: datetime) -> date:
    return dt.astimezone(TZ).date()


def in_range(dt: datetime, start: date, end: date) -> bool:
    return start <= local(dt) <= end


def province_wards(code: int) -> set[str]:
    return {f"{w.code.value:05d}" for w in Ward.iter_by_province(code)}


def test_profile_names() -> None:
    assert PROFILES == ("binh-duong-2021", "ha-noi-2021", "recent")
    with pytest.raises(ValueError):
        build_profile("nowhere")


def test_texts_are_rich_enough() -> None:
    assert set(TEMPLATES) == set(CATEGORIES) == set(ANSWERS)
    assert len(CATEGORIES) == 13
    assert all(len(v) >= 25 for v in TEMPLATES.values())
    assert all(len(v) >= 8 for v in ANSWERS.values())
    assert len(RETURN_REASONS) >= 6 and len(REJECT_REASONS) >= 5


def test_binh_duong_cases_exact() -> None:
    p = profile("binh-duong-2021")
    assert (p.province_code, p.start, p.end) == ("79", date(2021, 7, 19), date(2021, 8, 16))
    cases = [c for c in p.cases if in_range(c.created_at, p.start, p.end)]
    assert len(cases) == len(p.cases) == 8408
    cats = Counter(c.category for c in cases)
    assert cats["ho_tro_kho_khan"] == 3898
    assert cats["cap_cuu"] == 1039
    assert sum(cats.values()) - 3898 - 1039 == 3471
    assert set(cats) == set(CATEGORIES)
    others = {k: v for k, v in cats.items() if k not in ("ho_tro_kho_khan", "cap_cuu")}
    biggest = {k for k, _ in Counter(others).most_common(4)}
    assert biggest == {"bao_cao_ca_benh", "tu_van_suc_khoe", "an_ninh_trat_tu", "chinh_sach_ho_tro"}
    assert cats["khac"] < cats["xet_nghiem"]
    channels = Counter(c.channel for c in cases)
    assert set(channels) == {"phone", "zalo", "app", "web", "facebook", "viber", "email"}
    assert channels.most_common(1)[0][0] == "phone"


def test_binh_duong_calls_exact() -> None:
    p = profile("binh-duong-2021")
    calls = [c for c in p.calls if in_range(c.started_at, p.start, p.end)]
    assert len(calls) == len(p.calls) == 55553
    lines = Counter(c.line for c in calls)
    assert lines == {"115": 7833, "1022": 55553 - 7833}
    august = [c for c in calls if in_range(c.started_at, date(2021, 8, 1), date(2021, 8, 16))]
    aug_lines = Counter(c.line for c in august)
    assert 49000 <= len(august) <= 49999
    assert aug_lines["115"] > 6000 and aug_lines["1022"] > 43000
    outcomes = Counter(c.outcome for c in calls)
    assert outcomes["answered"] > 0.7 * len(calls)
    assert outcomes["abandoned_queue"] > 0


@pytest.mark.parametrize("name", ["binh-duong-2021", "ha-noi-2021", "recent"])
def test_phone_cases_link_to_answered_calls_that_day(name: str) -> None:
    p = profile(name)
    used = []
    for case in p.cases:
        if case.channel != "phone":
            assert case.call_index is None
            continue
        call = p.calls[case.call_index]
        assert call.outcome == "answered"
        assert local(call.started_at) == local(case.created_at)
        assert call.caller == case.contact_phone
        used.append(case.call_index)
    assert len(used) == len(set(used))  # one case per call


def test_ha_noi_exact() -> None:
    p = profile("ha-noi-2021")
    assert (p.province_code, p.start, p.end) == ("01", date(2021, 8, 19), date(2021, 8, 23))
    cases = [c for c in p.cases if in_range(c.created_at, p.start, p.end)]
    assert len(cases) == 2088
    assert sum(c.outcome in DIRECT_OUTCOMES for c in cases) == 1581
    assert sum(c.outcome in FORWARDED_OUTCOMES for c in cases) == 507
    channels = Counter(c.channel for c in cases)
    assert set(channels) == {"phone", "zalo", "web"}
    assert channels.most_common(1)[0][0] == "phone"
    assert {c.line for c in p.calls} == {"1022", "0889556655", "0889557755"}
    assert {c.branch for c in p.calls if c.line == "1022"} >= {"115", "cdc", "doctor", "operator"}
    # The two older numbers had no voice menu: straight to the operators.
    assert {c.branch for c in p.calls if c.line != "1022"} == {"operator"}
    for call in p.calls:
        if call.branch == "115":
            assert call.outcome == "transferred_115"
        if call.branch == "cdc":
            assert call.outcome == "transferred_cdc"
    assert len(p.calls) >= channels["phone"]


def test_forwarding_depends_on_category() -> None:
    cases = profile("ha-noi-2021").cases + profile("binh-duong-2021").cases

    def share(cat: str) -> float:
        rows = [c for c in cases if c.category == cat]
        return sum(c.outcome in FORWARDED_OUTCOMES for c in rows) / len(rows)

    assert share("phan_anh_vi_pham") > 0.5 and share("cap_cuu") > 0.5
    assert share("chinh_sach_ho_tro") < 0.15 and share("thong_tin_chi_dao") < 0.15


def test_urgent_flags() -> None:
    cases = profile("binh-duong-2021").cases
    assert all(c.urgent for c in cases if c.category == "cap_cuu")
    security = [c for c in cases if c.category == "an_ninh_trat_tu"]
    assert 0 < sum(c.urgent for c in security) < len(security) / 2
    assert not any(c.urgent for c in cases if c.category == "thong_tin_chi_dao")


@pytest.mark.parametrize("name", ["binh-duong-2021", "ha-noi-2021", "recent"])
def test_records_are_well_formed(name: str) -> None:
    p = profile(name)
    wards = province_wards(int(p.province_code))
    for case in p.cases:
        assert case.ward_code in wards
        assert case.created_at.tzinfo is not None and case.created_at.utcoffset() == timedelta(0)
        assert case.category in CATEGORIES
        if case.outcome in ("open",):
            assert case.handled_at is None and case.answer is None
        else:
            assert case.handled_at is not None
            delay = case.handled_at - case.created_at
            assert timedelta(0) < delay <= timedelta(hours=12)
        if case.outcome == "forwarded_open":
            assert case.answer is None
        if case.outcome in ("resolved_directly", "closed_directly", "rejected"):
            assert case.answer
    numbers = {c.contact_phone for c in p.cases} | {c.caller for c in p.calls}
    for number in numbers:
        assert len(number) == 10 and number.startswith("0")
        assert phonenumbers.is_valid_number(phonenumbers.parse(number, "VN")), number
    prefixes = {n[:2] for n in numbers}
    assert {"03", "07", "08", "09"} <= prefixes


def test_binh_duong_wards_are_former_binh_duong() -> None:
    names = {f"{w.code.value:05d}": w.name for w in Ward.iter_by_province(79)}
    used = {c.ward_code for c in profile("binh-duong-2021").cases}
    # Former Bình Dương kept its pre-2025 GSO code range 25741-26020.
    assert all(25741 <= int(code) <= 26020 for code in used)
    assert {"Phường Thủ Dầu Một", "Phường Dĩ An", "Phường Thuận An"} <= {names[c] for c in used}


def test_hour_profile() -> None:
    for name in ("binh-duong-2021", "ha-noi-2021"):
        p = profile(name)
        hours = [c.created_at.astimezone(TZ).hour for c in p.cases]
        assert sum(8 <= h < 20 for h in hours) / len(hours) > 0.7
        assert any(h < 6 for h in hours)  # nights are quiet, not empty


def test_daily_growth_in_binh_duong() -> None:
    p = profile("binh-duong-2021")
    per_day = Counter(local(c.started_at) for c in p.calls)
    assert len(per_day) == 29
    assert per_day[date(2021, 8, 16)] > 3 * per_day[date(2021, 7, 19)]


def test_descriptions_varied() -> None:
    cases = profile("binh-duong-2021").cases
    assert len({c.description for c in cases}) / len(cases) >= 0.9
    unaccented = sum(c.description.isascii() for c in cases)
    assert 0 < unaccented < 0.2 * len(cases)


def test_recent_profile() -> None:
    p = profile("recent")
    today = FIXED_NOW.astimezone(TZ).date()
    assert p.end == today and p.start == today - timedelta(days=29)
    days = {local(c.created_at) for c in p.cases}
    assert min(days) == p.start and max(days) == today and len(days) == 30
    for case in p.cases:
        assert case.created_at <= FIXED_NOW
        assert case.handled_at is None or case.handled_at <= FIXED_NOW
    assert all(c.started_at <= FIXED_NOW for c in p.calls)
    assert 1300 <= len(p.cases) <= 1700
    assert 5000 <= len(p.calls) <= 7000
    outcomes = Counter(c.outcome for c in p.cases)
    assert outcomes["open"] > 0 and outcomes["forwarded_open"] > 0
    two_days_ago = FIXED_NOW - timedelta(days=2)
    assert any(c.outcome == "forwarded_open" and c.handled_at < two_days_ago for c in p.cases)
    assert any(c.outcome == "forwarded_open" and c.handled_at > two_days_ago for c in p.cases)


def test_recent_defaults_to_now() -> None:
    before = datetime.now(UTC)
    p = build_profile("recent")
    assert p.end == before.astimezone(TZ).date() or p.end == datetime.now(TZ).date()
    after = datetime.now(UTC)
    assert all(c.created_at <= after for c in p.cases)
    assert all(c.started_at <= after for c in p.calls)


def test_deterministic() -> None:
    for name in PROFILES:
        now = FIXED_NOW if name == "recent" else None
        assert build_profile(name, seed=7, now=now) == build_profile(name, seed=7, now=now)
    a = build_profile("ha-noi-2021", seed=1)
    b = build_profile("ha-noi-2021", seed=2)
    assert a.cases != b.cases
    assert len(a.cases) == len(b.cases) == 2088


@pytest.mark.parametrize("seconds", [0, 1, 59, 3601])
def test_recent_just_after_local_midnight(seconds: int) -> None:
    midnight = datetime(2025, 11, 20, tzinfo=TZ).astimezone(UTC)
    now = midnight + timedelta(seconds=seconds)
    p = build_profile("recent", now=now)
    assert p.end == date(2025, 11, 20)
    assert all(c.created_at <= now for c in p.cases)
    assert all(c.handled_at is None or c.handled_at <= now for c in p.cases)
    assert all(c.started_at <= now for c in p.calls)


@pytest.mark.parametrize("hours_later", [0, 7, 100, 555, 2000])
def test_recent_profile_leaves_open_work_for_each_demo_login(hours_later: int) -> None:
    from hotline.demo.profiles import FORWARD_HOURS, WARD_CATEGORIES

    now = FIXED_NOW + timedelta(hours=hours_later, minutes=17 * hours_later)
    p = build_profile("recent", now=now)
    ward = [
        c
        for c in p.cases
        if c.ward_code == p.demo_ward
        and c.category in WARD_CATEGORIES
        and c.outcome in ("forwarded_open", "forwarded_accepted")
    ]
    assert {c.outcome for c in ward} == {"forwarded_open", "forwarded_accepted"}
    assert all((c.accepted_at is None) == (c.outcome == "forwarded_open") for c in ward)
    assert any(c.handled_at + timedelta(hours=FORWARD_HOURS[c.category]) < now for c in ward)
    held = [c for c in p.cases if c.outcome == "in_progress" and c.assignee is not None]
    assert "dtv01" in {p.staff[c.assignee].username for c in held}
    consults = [
        c
        for c in p.cases
        if c.category == "tu_van_suc_khoe" and c.outcome in ("forwarded_open", "forwarded_accepted")
    ]
    assert consults
    open_forwards = [c for c in p.cases if c.outcome in ("forwarded_open", "forwarded_accepted")]
    assert any(c.urgent for c in open_forwards)
    for c in p.cases:  # nothing happened after now, and things happened in order
        times = [c.created_at, c.handled_at, c.accepted_at, c.finished_at, c.closed_at]
        known = [t for t in times if t is not None]
        assert known == sorted(known) and known[-1] <= now
