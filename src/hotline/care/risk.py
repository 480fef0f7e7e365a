"""Risk stratification of one check-in: NEWS2, warning signs, severity, colour tier.

Pure functions of the vitals, the patient's age and the rule sets (care/rulesets.py): no
database, no clock, fast enough to run on every check-in of a whole city (bench/care_risk.py).
Decision support only: a result flags and escalates, a doctor decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hotline.care.rulesets import NEWS2, SEVERITY, TIERS, WARNING_SIGNS, Bands


@dataclass(frozen=True, slots=True)
class Vitals:
    spo2: int | None = None
    respiratory_rate: int | None = None
    pulse: int | None = None
    temperature: float | None = None
    systolic_bp: int | None = None
    diastolic_bp: int | None = None
    consciousness: str | None = None
    on_oxygen: bool = False
    symptoms: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class Risk:
    news2: int
    news2_response: str
    # Parameters scored (name -> points); those left out score nothing and are named here.
    news2_parts: dict[str, int]
    news2_missing: tuple[str, ...]
    warning_signs: tuple[str, ...]
    severity: str
    tier: str
    risk: str
    rule_set_version: str

    @property
    def escalates(self) -> bool:
        """A warning sign, or a tier at least TIERS' `escalate_at_least` (red): an urgent
        case to the 115 unit and a live alert (care/escalation.py)."""
        return bool(self.warning_signs) or TIER_RANK[self.tier] >= _ESCALATE_RANK

    def as_json(self) -> dict[str, Any]:
        return {
            "news2": self.news2,
            "news2_response": self.news2_response,
            "news2_parts": self.news2_parts,
            "news2_missing": list(self.news2_missing),
            "warning_signs": list(self.warning_signs),
            "severity": self.severity,
            "tier": self.tier,
            "risk": self.risk,
            "rule_set_version": self.rule_set_version,
            "escalates": self.escalates,
        }


def band_points(bands: Bands, value: float) -> int:
    for upper, points in bands:
        if upper is None or value <= upper:
            return points
    raise AssertionError("a band list ends with an open band")


_NEWS2_BANDS: dict[str, Bands] = NEWS2["bands"]
_NEWS2_PARAMETERS = (*_NEWS2_BANDS, "consciousness")


def news2(v: Vitals) -> tuple[int, str, dict[str, int], tuple[str, ...]]:
    """NEWS2 total, its clinical response, the points of each parameter given, and the
    parameters left out (they score 0: the score is then a lower bound)."""
    parts: dict[str, int] = {}
    missing: list[str] = []
    for name, bands in _NEWS2_BANDS.items():
        value = getattr(v, name)
        if value is None:
            missing.append(name)
        else:
            parts[name] = band_points(bands, value)
    if v.consciousness is None:
        missing.append("consciousness")
    else:
        parts["consciousness"] = NEWS2["consciousness_points"][v.consciousness]
    if v.on_oxygen:
        parts["oxygen"] = NEWS2["oxygen_points"]
    total = sum(parts.values())
    response = "low"
    for at_least, label in NEWS2["responses"]:
        if total >= at_least:
            response = label
            break
    if response == "low" and 3 in parts.values():
        response = NEWS2["single_three"]
    return total, response, parts, tuple(missing)


def warning_signs(v: Vitals, *, age: int | None, rule_set: str) -> tuple[str, ...]:
    """The Ministry of Health warning signs present (codes, in a fixed order)."""
    rules = WARNING_SIGNS[rule_set]
    found = [s for s in rules["symptoms"] if s in v.symptoms]
    if v.consciousness is not None and v.consciousness != "alert" and "confusion" not in found:
        found.append("confusion")
    if v.respiratory_rate is not None:
        for age_below, threshold in rules["respiratory_rate"]:
            if age_below is None or (age is not None and age < age_below):
                if v.respiratory_rate >= threshold:
                    found.append("respiratory_rate")
                break
    if v.spo2 is not None and v.spo2 <= rules["spo2_at_most"]:
        found.append("spo2")
    if v.pulse is not None and (v.pulse > rules["pulse_above"] or v.pulse < rules["pulse_below"]):
        found.append("pulse")
    if (v.systolic_bp is not None and v.systolic_bp < rules["systolic_below"]) or (
        v.diastolic_bp is not None and v.diastolic_bp < rules["diastolic_below"]
    ):
        found.append("blood_pressure")
    return tuple(found)


def _level_holds(rule: dict[str, Any], v: Vitals, rr_rules: dict[str, Any] | None) -> bool:
    rr, spo2 = v.respiratory_rate, v.spo2
    if rr_rules is not None:  # a child: the respiratory rates of their age, not an adult's
        rule = {k: x for k, x in rule.items() if not k.startswith("rr_")}
        rule.update(rr_rules.get(rule["level"], {}))
    return (
        (rr is not None and "rr_above" in rule and rr > rule["rr_above"])
        or (rr is not None and "rr_below" in rule and rr < rule["rr_below"])
        or (rr is not None and "rr_at_least" in rule and rr >= rule["rr_at_least"])
        or (spo2 is not None and "spo2_below" in rule and spo2 < rule["spo2_below"])
        or (spo2 is not None and "spo2_at_most" in rule and spo2 <= rule["spo2_at_most"])
        or (rule.get("consciousness_not_alert", False) and v.consciousness not in (None, "alert"))
        or any(s in v.symptoms for s in rule.get("symptoms", ()))
    )


def _child_rr_rules(age: int | None) -> dict[str, Any] | None:
    if age is None:
        return None
    for age_below, rules in SEVERITY["rr_by_age"]:
        if age < age_below:
            return dict(rules)
    return None


def severity(v: Vitals, age: int | None = None) -> str:
    """The severity level (4689/QĐ-BYT): the highest level any of whose conditions holds
    (a child's respiratory rate by the children's limits); mild with symptoms or a
    temperature, asymptomatic with nothing abnormal."""
    rr_rules = _child_rr_rules(age)
    for rule in SEVERITY["levels"]:
        if _level_holds(rule, v, rr_rules):
            return str(rule["level"])
    fever = v.temperature is not None and v.temperature > 37.5
    return "mild" if v.symptoms or fever else "asymptomatic"


_SEVERITY_RANK = {level: i for i, level in enumerate(SEVERITY["order"])}


def tier(
    v: Vitals, *, level: str, score: int, parts: dict[str, int], signs: tuple[str, ...]
) -> str:
    for rule in TIERS["tiers"]:
        at_least = rule.get("severity_at_least")
        if (
            (at_least is not None and _SEVERITY_RANK[level] >= _SEVERITY_RANK[at_least])
            or ("spo2_below" in rule and v.spo2 is not None and v.spo2 < rule["spo2_below"])
            or ("news2_at_least" in rule and score >= rule["news2_at_least"])
            or (rule.get("warning_sign", False) and bool(signs))
            or (rule.get("single_three", False) and 3 in parts.values())
        ):
            return str(rule["tier"])
    return "green"


_VERSIONS: dict[str, str] = {}


def evaluate(v: Vitals, *, age: int | None, warning_rule_set: str) -> Risk:
    """Every rule set on one check-in."""
    score, response, parts, missing = news2(v)
    signs = warning_signs(v, age=age, rule_set=warning_rule_set)
    level = severity(v, age)
    if age is not None and age < TIERS["news2_min_age"]:
        # NEWS2 is an adult's score: reported, but a child's tier does not rest on it.
        colour = tier(v, level=level, score=0, parts={}, signs=signs)
    else:
        colour = tier(v, level=level, score=score, parts=parts, signs=signs)
    version = _VERSIONS.get(warning_rule_set)
    if version is None:
        from hotline.care.rulesets import rule_set_version

        version = _VERSIONS[warning_rule_set] = rule_set_version(warning_rule_set)
    return Risk(
        news2=score,
        news2_response=response,
        news2_parts=parts,
        news2_missing=missing,
        warning_signs=signs,
        severity=level,
        tier=colour,
        risk=TIERS["risk"][colour],
        rule_set_version=version,
    )


TIER_RANK = {t: i for i, t in enumerate(TIERS["order"])}
_ESCALATE_RANK = TIER_RANK[TIERS["escalate_at_least"]]
