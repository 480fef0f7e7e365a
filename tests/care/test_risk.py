"""The rule sets at, and on both sides of, every threshold (CARE.md's tables)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.care.eligibility import Facts, assess
from hotline.care.risk import Vitals, evaluate, news2, severity, warning_signs

W4377, W261 = "byt-4377-2021", "byt-261-2022"


def score(**vitals) -> dict[str, int]:
    return news2(Vitals(**vitals))[2]


# NEWS2: (parameter, value, points) at each band edge and one beyond it.
NEWS2_EDGES = [
    ("respiratory_rate", 8, 3), ("respiratory_rate", 9, 1), ("respiratory_rate", 11, 1),
    ("respiratory_rate", 12, 0), ("respiratory_rate", 20, 0), ("respiratory_rate", 21, 2),
    ("respiratory_rate", 24, 2), ("respiratory_rate", 25, 3),
    ("spo2", 91, 3), ("spo2", 92, 2), ("spo2", 93, 2), ("spo2", 94, 1), ("spo2", 95, 1),
    ("spo2", 96, 0),
    ("systolic_bp", 90, 3), ("systolic_bp", 91, 2), ("systolic_bp", 100, 2),
    ("systolic_bp", 101, 1), ("systolic_bp", 110, 1), ("systolic_bp", 111, 0),
    ("systolic_bp", 219, 0), ("systolic_bp", 220, 3),
    ("pulse", 40, 3), ("pulse", 41, 1), ("pulse", 50, 1), ("pulse", 51, 0), ("pulse", 90, 0),
    ("pulse", 91, 1), ("pulse", 110, 1), ("pulse", 111, 2), ("pulse", 130, 2), ("pulse", 131, 3),
    ("temperature", 35.0, 3), ("temperature", 35.1, 1), ("temperature", 36.0, 1),
    ("temperature", 36.1, 0), ("temperature", 38.0, 0), ("temperature", 38.1, 1),
    ("temperature", 39.0, 1), ("temperature", 39.1, 2),
]  # fmt: skip


@pytest.mark.parametrize(("name", "value", "points"), NEWS2_EDGES)
def test_news2_points_at_each_band_edge(name, value, points):
    assert score(**{name: value}) == {name: points}


def test_news2_consciousness_oxygen_and_responses():
    assert score(consciousness="alert") == {"consciousness": 0}
    for level in ("confusion", "voice", "pain", "unresponsive"):
        assert score(consciousness=level) == {"consciousness": 3}
    assert news2(Vitals(spo2=97, on_oxygen=True))[0] == 2
    assert news2(Vitals(respiratory_rate=16))[1] == "low"  # 0
    assert news2(Vitals(pulse=95))[1] == "low"  # 1
    assert news2(Vitals(respiratory_rate=25))[1] == "low_medium"  # a single 3
    assert news2(Vitals(respiratory_rate=22, pulse=95, temperature=38.5))[0:2] == (4, "low")
    assert news2(Vitals(respiratory_rate=22, pulse=112, temperature=38.5))[0:2] == (5, "medium")
    assert news2(Vitals(respiratory_rate=22, pulse=112, temperature=39.5))[0:2] == (6, "medium")
    assert news2(Vitals(respiratory_rate=25, pulse=112, temperature=39.5))[0:2] == (7, "high")
    assert news2(Vitals(spo2=97))[3] == (
        "respiratory_rate", "systolic_bp", "pulse", "temperature", "consciousness"
    )  # fmt: skip


@given(st.integers(1, 80), st.integers(50, 100), st.integers(20, 250))
def test_news2_total_is_the_sum_of_its_parts_and_grows_with_worse_spo2(rr, spo2, pulse):
    total, _, parts, _ = news2(Vitals(respiratory_rate=rr, spo2=spo2, pulse=pulse))
    assert total == sum(parts.values())
    if spo2 > 50:
        lower = news2(Vitals(respiratory_rate=rr, spo2=spo2 - 1, pulse=pulse))[0]
        assert lower >= total


@pytest.mark.parametrize(
    ("rule_set", "spo2_sign", "spo2_clear", "rr_sign", "rr_clear"),
    [(W4377, 95, 96, 21, 20), (W261, 96, 97, 20, 19)],
)
def test_adult_warning_thresholds_by_decision(rule_set, spo2_sign, spo2_clear, rr_sign, rr_clear):
    def signs(**v):
        return warning_signs(Vitals(**v), age=40, rule_set=rule_set)

    assert signs(spo2=spo2_sign) == ("spo2",)
    assert signs(spo2=spo2_clear) == ()
    assert signs(respiratory_rate=rr_sign) == ("respiratory_rate",)
    assert signs(respiratory_rate=rr_clear) == ()


@pytest.mark.parametrize(
    ("age", "at", "below"), [(2, 40, 39), (4, 40, 39), (5, 30, 29), (11, 30, 29)]
)
def test_child_respiratory_rate_thresholds(age, at, below):
    def signs(rr):
        return warning_signs(Vitals(respiratory_rate=rr), age=age, rule_set=W4377)

    assert signs(at) == ("respiratory_rate",)
    assert signs(below) == ()


def test_pulse_pressure_consciousness_and_symptom_signs():
    def signs(**v):
        return warning_signs(Vitals(**v), age=40, rule_set=W4377)

    assert signs(pulse=121) == ("pulse",)
    assert signs(pulse=120) == signs(pulse=50) == ()
    assert signs(pulse=49) == ("pulse",)
    assert signs(systolic_bp=89) == ("blood_pressure",)
    assert signs(systolic_bp=90, diastolic_bp=60) == ()
    assert signs(diastolic_bp=59) == ("blood_pressure",)
    assert signs(consciousness="voice") == ("confusion",)
    assert signs(consciousness="alert") == ()
    assert signs(symptoms=frozenset({"chest_pain", "fever"})) == ("chest_pain",)


@given(st.integers(50, 100), st.integers(1, 80))
def test_severity_levels_follow_4689(spo2, rr):
    level = severity(Vitals(spo2=spo2, respiratory_rate=rr))
    if rr > 30 or rr < 10:
        assert level == "critical"
    elif rr > 25 or spo2 < 94:
        assert level == "severe"
    elif rr >= 20 or spo2 <= 96:
        assert level == "moderate"
    else:
        assert level == "asymptomatic"


def test_severity_edges_and_mild():
    assert severity(Vitals(respiratory_rate=30)) == "severe"
    assert severity(Vitals(respiratory_rate=31)) == "critical"
    assert severity(Vitals(respiratory_rate=10)) == "asymptomatic"
    assert severity(Vitals(respiratory_rate=9)) == "critical"
    assert severity(Vitals(respiratory_rate=25)) == "moderate"
    assert severity(Vitals(respiratory_rate=26)) == "severe"
    assert severity(Vitals(respiratory_rate=19, spo2=97)) == "asymptomatic"
    assert severity(Vitals(spo2=97, symptoms=frozenset({"fever"}))) == "mild"


# A child's respiratory-rate severity steps: (age, moderate from, severe above, critical above).
CHILD_STEPS = [(0, 40, 50, 60), (3, 40, 50, 60), (4, 40, 50, 60), (5, 30, 37, 45), (11, 30, 37, 45)]


@pytest.mark.parametrize(("age", "moderate", "severe", "critical"), CHILD_STEPS)
@given(rr=st.integers(1, 80))
def test_a_childs_severity_follows_the_childrens_breathing_limits(
    age, moderate, severe, critical, rr
):
    level = severity(Vitals(respiratory_rate=rr, spo2=98), age)
    if rr > critical or rr < 10:
        assert level == "critical"
    elif rr > severe:
        assert level == "severe"
    elif rr >= moderate:
        assert level == "moderate"
    else:
        assert level == "asymptomatic"
    # From 12 the adult's steps apply.
    assert severity(Vitals(respiratory_rate=rr, spo2=98), 12) == severity(
        Vitals(respiratory_rate=rr, spo2=98)
    )


@pytest.mark.parametrize(("age", "moderate", "severe", "critical"), CHILD_STEPS)
def test_a_childs_severity_at_and_beside_each_step(age, moderate, severe, critical):
    def level(rr):
        return severity(Vitals(respiratory_rate=rr), age)

    assert (level(moderate - 1), level(moderate)) == ("asymptomatic", "moderate")
    assert (level(severe), level(severe + 1)) == ("moderate", "severe")
    assert (level(critical), level(critical + 1)) == ("severe", "critical")


@given(
    st.integers(0, 90),
    st.integers(1, 80),
    st.integers(50, 100),
    st.integers(20, 250),
    st.sampled_from([None, 35.0, 37.0, 39.5]),
    st.sampled_from([None, 85, 95, 120]),
    st.frozensets(st.sampled_from(["fever", "cyanosis", "severe_breathlessness"]), max_size=2),
)
def test_escalation_is_a_warning_sign_or_a_red_tier(age, rr, spo2, pulse, temp, sbp, symptoms):
    v = Vitals(
        respiratory_rate=rr, spo2=spo2, pulse=pulse, temperature=temp, systolic_bp=sbp,
        symptoms=symptoms,
    )  # fmt: skip
    risk = evaluate(v, age=age, warning_rule_set=W4377)
    assert risk.escalates == (bool(risk.warning_signs) or risk.tier == "red")
    # Critical or severe, and an adult's NEWS2 of 7 or more, are red: they escalate.
    if risk.severity in ("severe", "critical") or (age >= 16 and risk.news2 >= 7):
        assert risk.escalates
    if age < 16 and not risk.warning_signs and risk.severity in ("asymptomatic", "mild"):
        assert risk.tier in ("green", "yellow") and not risk.escalates


@pytest.mark.parametrize(
    ("extra", "total", "tier"), [({"respiratory_rate": 12}, 6, "orange"), ({}, 7, "red")]
)
def test_an_adults_news2_of_seven_is_red_and_six_is_not(extra, total, tier):
    v = {"respiratory_rate": 11, "pulse": 112, "temperature": 39.5, "systolic_bp": 95, "spo2": 97}
    risk = evaluate(Vitals(**{**v, **extra}), age=40, warning_rule_set=W4377)
    assert (risk.news2, risk.tier, risk.warning_signs) == (total, tier, ())
    assert risk.escalates is (tier == "red")


def test_spo2_93_and_rr_26_is_high_risk_with_every_version_named():
    risk = evaluate(Vitals(spo2=93, respiratory_rate=26), age=45, warning_rule_set=W4377)
    assert (risk.news2, risk.severity, risk.tier, risk.risk) == (5, "severe", "red", "high")
    assert risk.warning_signs == ("respiratory_rate", "spo2")
    assert risk.rule_set_version == (
        "news2-rcp-2017;byt-4377-2021;byt-4689-2021-child-rr;tiers-3646-hcmc-2021-r2"
    )


@pytest.mark.parametrize(
    ("vitals", "tier"),
    [
        ({"spo2": 98, "respiratory_rate": 16}, "green"),
        ({"spo2": 96, "respiratory_rate": 16}, "yellow"),  # moderate (SpO2 94-96)
        ({"spo2": 95, "respiratory_rate": 16}, "orange"),  # a warning sign
        ({"spo2": 94, "respiratory_rate": 16}, "orange"),
        ({"spo2": 93, "respiratory_rate": 16}, "red"),  # below 94: severe
        ({"spo2": 98, "respiratory_rate": 16, "pulse": 95}, "yellow"),  # NEWS2 1
    ],
)
def test_tiers(vitals, tier):
    assert evaluate(Vitals(**vitals), age=30, warning_rule_set=W4377).tier == tier


ON = date(2021, 8, 20)


def facts(**kw) -> Facts:
    base = {"status": "F0", "age": 30, "vaccine_doses": 0, "spo2": 98, "respiratory_rate": 16}
    return Facts(**{**base, **kw})


def test_eligibility_4038_vitals_at_the_limits():
    assert assess(facts(respiratory_rate=20, spo2=96), rule_set="byt-4038-2021", on=ON).eligible
    no = assess(facts(respiratory_rate=21), rule_set="byt-4038-2021", on=ON)
    assert not no.eligible and [r.rule for r in no.reasons if r.ok is False] == ["respiratory_rate"]
    assert not assess(facts(spo2=95), rule_set="byt-4038-2021", on=ON).eligible
    assert not assess(facts(spo2=96), rule_set="byt-261-2022", on=ON).eligible
    assert assess(facts(spo2=97, respiratory_rate=19), rule_set="byt-261-2022", on=ON).eligible


@pytest.mark.parametrize(
    ("kw", "eligible"),
    [
        ({"age": 49}, True),
        ({"age": 50}, False),
        ({"age": 1}, False),
        ({"age": 2}, True),
        ({"age": 30, "pregnant": True}, False),
        ({"age": 30, "comorbidities": frozenset({"diabetes"})}, False),
        ({"age": 60, "vaccine_doses": 2}, True),
        ({"age": 60, "vaccine_doses": 1, "last_dose_date": date(2021, 8, 5)}, True),  # 15 days
        ({"age": 60, "vaccine_doses": 1, "last_dose_date": date(2021, 8, 6)}, False),  # 14 days
        ({"age": 60, "vaccine_doses": 1}, False),
        ({"can_self_care": False}, False),
        ({"can_self_care": False, "has_carer": True}, True),
        ({"symptoms": frozenset({"fever", "dry_cough"})}, True),
        ({"symptoms": frozenset({"breathlessness"})}, False),
    ],
)
def test_eligibility_4038_vaccination_or_low_risk(kw, eligible):
    found = assess(facts(**kw), rule_set="byt-4038-2021", on=ON)
    assert found.eligible is eligible, found.reasons
    assert found.rule_set_version == "byt-4038-2021"


def test_eligibility_261_accepts_a_stable_comorbidity():
    sick = facts(age=70, comorbidities=frozenset({"hypertension"}))
    assert not assess(sick, rule_set="byt-261-2022", on=ON).eligible
    stable = facts(age=70, comorbidities=frozenset({"hypertension"}), comorbidities_stable=True)
    assert assess(stable, rule_set="byt-261-2022", on=ON).eligible


@pytest.mark.parametrize("missing", ["spo2", "respiratory_rate"])
def test_eligibility_without_spo2_or_respiratory_rate_needs_assessment(missing):
    found = assess(facts(**{missing: None}), rule_set="byt-4038-2021", on=ON)
    assert (found.decision, found.eligible) == ("needs_assessment", False)
    assert [r.rule for r in found.reasons if r.ok is None] == [missing]
    assert found.as_json()["eligible"] is None
    # A rule that fails says no, whatever is missing.
    no = assess(facts(**{missing: None}, age=60), rule_set="byt-4038-2021", on=ON)
    assert no.decision == "not_eligible"
