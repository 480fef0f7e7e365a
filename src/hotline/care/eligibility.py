"""Who may be cared for at home (4038/QĐ-BYT, or 261/QĐ-BYT by setting): a pure rule over
the registration's facts, answering each rule checked with its reason (docs/care.md): eligible,
not eligible (a rule fails, or a warning sign was found in what was measured: F1 people too),
or needs assessment (an F0 whose SpO2, respiratory rate or, where it decides, age is not
known)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from hotline.care.rulesets import ELIGIBILITY, MILD_SYMPTOMS
from hotline.messages import Message, msg


@dataclass(frozen=True)
class Facts:
    status: str  # F0 | F1
    age: int | None
    comorbidities: frozenset[str] = frozenset()
    comorbidities_stable: bool = False
    pregnant: bool = False
    vaccine_doses: int = 0
    last_dose_date: date | None = None
    test_date: date | None = None
    spo2: int | None = None
    respiratory_rate: int | None = None
    symptoms: frozenset[str] = field(default_factory=frozenset)
    can_self_care: bool = True
    has_carer: bool = False
    # The warning signs (care/risk.py) found in what was measured: each bars home care.
    warning_signs: tuple[str, ...] = ()


ELIGIBLE, NOT_ELIGIBLE, NEEDS_ASSESSMENT = "eligible", "not_eligible", "needs_assessment"


@dataclass(frozen=True)
class Reason:
    rule: str
    ok: bool | None  # None: not known (a measure missing)
    message: Message


@dataclass(frozen=True)
class Eligibility:
    decision: str  # eligible | not_eligible | needs_assessment
    reasons: tuple[Reason, ...]
    rule_set_version: str

    @property
    def eligible(self) -> bool:
        return self.decision == ELIGIBLE

    def as_json(self) -> dict[str, Any]:
        return {
            "eligible": None if self.decision == NEEDS_ASSESSMENT else self.eligible,
            "decision": self.decision,
            "reasons": [{"rule": r.rule, "ok": r.ok, "message": r.message} for r in self.reasons],
            "rule_set_version": self.rule_set_version,
        }


# One reason per warning sign (care/risk.py's codes), so a page can show each in its language.
SIGN_REASONS: dict[str, Message] = {
    "respiratory_rate": msg("Dấu hiệu cảnh báo: thở nhanh — cần chuyển cấp cứu"),
    "spo2": msg("Dấu hiệu cảnh báo: SpO2 thấp — cần chuyển cấp cứu"),
    "pulse": msg("Dấu hiệu cảnh báo: mạch bất thường — cần chuyển cấp cứu"),
    "blood_pressure": msg("Dấu hiệu cảnh báo: huyết áp thấp — cần chuyển cấp cứu"),
    "breathlessness": msg("Dấu hiệu cảnh báo: khó thở — cần chuyển cấp cứu"),
    "grunting": msg("Dấu hiệu cảnh báo: thở rên — cần chuyển cấp cứu"),
    "chest_indrawing": msg("Dấu hiệu cảnh báo: rút lõm lồng ngực — cần chuyển cấp cứu"),
    "nasal_flaring": msg("Dấu hiệu cảnh báo: phập phồng cánh mũi — cần chuyển cấp cứu"),
    "stridor": msg("Dấu hiệu cảnh báo: thở rít — cần chuyển cấp cứu"),
    "chest_pain": msg("Dấu hiệu cảnh báo: đau tức ngực kéo dài — cần chuyển cấp cứu"),
    "confusion": msg("Dấu hiệu cảnh báo: lú lẫn — cần chuyển cấp cứu"),
    "drowsiness": msg("Dấu hiệu cảnh báo: lơ mơ — cần chuyển cấp cứu"),
    "convulsions": msg("Dấu hiệu cảnh báo: co giật — cần chuyển cấp cứu"),
    "cyanosis": msg("Dấu hiệu cảnh báo: tím tái — cần chuyển cấp cứu"),
    "cannot_drink": msg("Dấu hiệu cảnh báo: trẻ không uống được — cần chuyển cấp cứu"),
    "new_acute_illness": msg("Dấu hiệu cảnh báo: bệnh cấp tính mới — cần chuyển cấp cứu"),
}
OTHER_SIGN = msg("Dấu hiệu cảnh báo — cần chuyển cấp cứu")


def _vaccinated(f: Facts, rules: dict[str, Any], on: date) -> bool | None:
    """Whether vaccinated as the rule counts it; None when one dose's date decides and is not
    known."""
    doses = rules["vaccinated_doses"]
    if doses is None:
        return True
    if f.vaccine_doses >= 2:
        return True
    if f.vaccine_doses >= doses:
        if f.last_dose_date is None:
            return None
        return (on - f.last_dose_date).days > rules["dose_days"]
    return False


def _rr_limit(rules: dict[str, Any], age: int | None) -> int | None:
    """The most breaths a minute for home care at this age; None for an unknown age."""
    if age is None:
        return None
    for age_below, most in rules.get("rr_at_most_by_age", ()):
        if age < age_below:
            return int(most)
    return int(rules["rr_at_most"])


def _age_decides_rr(f: Facts, rules: dict[str, Any]) -> bool:
    """Whether the age, unknown, decides the respiratory rate: above the adult limit, within
    a child's. The warning sign still alerts (the adult limit, the safe side); eligibility
    waits for a doctor (the respiratory-rate reason says why)."""
    rr = f.respiratory_rate
    if f.age is not None or rr is None:
        return False
    children = [m for _, m in rules.get("rr_at_most_by_age", ())]
    return bool(children) and rules["rr_at_most"] < rr <= max(children)


def _rr_reason(f: Facts, rules: dict[str, Any]) -> Reason:
    rr = f.respiratory_rate
    assert rr is not None
    limit = _rr_limit(rules, f.age)
    if limit is None:
        adult = rules["rr_at_most"]
        highest = max([adult, *(m for _, m in rules.get("rr_at_most_by_age", ()))])
        if rr <= adult:
            return Reason(
                "respiratory_rate", True, msg("Nhịp thở {rr}/phút, trong giới hạn", rr=rr)
            )
        if rr <= highest:
            # Within a child's limit, above an adult's: the age decides, and nobody gave it.
            return Reason(
                "respiratory_rate",
                None,
                msg(
                    "Nhịp thở {rr}/phút, trên {limit}/phút của người lớn, chưa rõ tuổi: "
                    "cần bác sĩ đánh giá",
                    rr=rr,
                    limit=adult,
                ),
            )
        limit = highest
    if rr <= limit:
        return Reason("respiratory_rate", True, msg("Nhịp thở {rr}/phút, trong giới hạn", rr=rr))
    return Reason(
        "respiratory_rate",
        False,
        msg("Nhịp thở {rr}/phút, trên {limit}/phút", rr=rr, limit=limit),
    )


def assess(f: Facts, *, rule_set: str, on: date) -> Eligibility:
    """Eligibility for home care on `on` (the test date's day, else today)."""
    rules = ELIGIBILITY[rule_set]
    reasons: list[Reason] = []

    def check(rule: str, ok: bool, yes: Message, no: Message) -> None:
        reasons.append(Reason(rule, ok, yes if ok else no))

    # A warning sign bars home care whoever has it, an F1 contact included: it calls for
    # 115 now (the registration escalates it as a check-in would).
    signs = [
        Reason("warning_sign", False, SIGN_REASONS.get(s, OTHER_SIGN))
        for s in f.warning_signs
        if not (s == "respiratory_rate" and _age_decides_rr(f, rules))
    ]
    if f.status == "F1":
        reasons.append(
            Reason("status", True, msg("F1: theo dõi tại nhà, chưa phải ca bệnh cần điều trị"))
        )
        reasons.extend(signs)
        return Eligibility(NOT_ELIGIBLE if signs else ELIGIBLE, tuple(reasons), rules["version"])
    reasons.extend(signs)
    check(
        "symptoms",
        f.symptoms <= frozenset(MILD_SYMPTOMS),
        msg("Không có triệu chứng hoặc chỉ triệu chứng nhẹ"),
        msg("Có triệu chứng ngoài nhóm nhẹ"),
    )
    # Home care needs the breathing measured: without SpO2 or the respiratory rate nobody
    # can say the patient qualifies, so the answer is "needs assessment", never "yes".
    if f.respiratory_rate is None:
        reasons.append(
            Reason(
                "respiratory_rate",
                None,
                msg("Chưa đo nhịp thở: cần đánh giá trước khi theo dõi tại nhà"),
            )
        )
    else:
        reasons.append(_rr_reason(f, rules))
    if f.spo2 is None:
        reasons.append(
            Reason("spo2", None, msg("Chưa đo SpO2: cần đánh giá trước khi theo dõi tại nhà"))
        )
    else:
        check(
            "spo2",
            f.spo2 >= rules["spo2_at_least"],
            msg("SpO2 {spo2}%, trong giới hạn", spo2=f.spo2),
            msg("SpO2 {spo2}%, dưới {limit}%", spo2=f.spo2, limit=rules["spo2_at_least"]),
        )
    healthy = not f.comorbidities or (rule_set == "byt-261-2022" and f.comorbidities_stable)
    if rules["vaccinated_doses"] is None:
        check(
            "comorbidities",
            healthy,
            msg("Không có bệnh nền hoặc bệnh nền ổn định"),
            msg("Có bệnh nền chưa ổn định"),
        )
    else:
        low_risk = healthy and not f.pregnant
        vaccinated = _vaccinated(f, rules, on)
        young = (
            f.age is not None
            and f.age > rules["age_above"]
            and f.age < rules["age_below"]
            and low_risk
        )
        if vaccinated is None and not young:
            # One dose, given more than `dose_days` before or not: its date decides here,
            # and nobody gave it. A doctor must decide, not the rule.
            reasons.append(
                Reason(
                    "vaccination_or_low_risk",
                    None,
                    msg(
                        "Đã tiêm {doses} mũi vắc xin, chưa rõ ngày tiêm: cần bác sĩ đánh giá",
                        doses=f.vaccine_doses,
                    ),
                )
            )
        elif not vaccinated and low_risk and f.age is None:
            # The age alone decides here, and nobody gave it: a doctor must, not the rule.
            reasons.append(
                Reason(
                    "vaccination_or_low_risk",
                    None,
                    msg("Chưa tiêm đủ vắc xin, chưa rõ tuổi: cần bác sĩ đánh giá"),
                )
            )
        else:
            check(
                "vaccination_or_low_risk",
                bool(vaccinated) or young,
                msg("Đã tiêm vắc xin, hoặc dưới 50 tuổi, không bệnh nền, không mang thai"),
                msg("Chưa tiêm đủ vắc xin và thuộc nhóm nguy cơ (tuổi, bệnh nền hoặc mang thai)"),
            )
    check(
        "care",
        f.can_self_care or f.has_carer,
        msg("Tự chăm sóc được hoặc có người chăm sóc"),
        msg("Không tự chăm sóc được và không có người chăm sóc"),
    )
    if any(r.ok is False for r in reasons):
        decision = NOT_ELIGIBLE
    elif any(r.ok is None for r in reasons):
        decision = NEEDS_ASSESSMENT
    else:
        decision = ELIGIBLE
    return Eligibility(decision, tuple(reasons), rules["version"])
