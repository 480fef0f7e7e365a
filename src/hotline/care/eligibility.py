"""Who may be cared for at home (4038/QĐ-BYT, or 261/QĐ-BYT by setting): a pure rule over
the registration's facts, answering each rule checked with its reason (docs/care.md): eligible,
not eligible, or, for an F0 whose SpO2 or respiratory rate is not given, needs assessment."""

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


def _vaccinated(f: Facts, rules: dict[str, Any], on: date) -> bool:
    doses = rules["vaccinated_doses"]
    if doses is None:
        return True
    if f.vaccine_doses >= 2:
        return True
    if f.vaccine_doses >= doses and f.last_dose_date is not None:
        return (on - f.last_dose_date).days > rules["dose_days"]
    return False


def assess(f: Facts, *, rule_set: str, on: date) -> Eligibility:
    """Eligibility for home care on `on` (the test date's day, else today)."""
    rules = ELIGIBILITY[rule_set]
    reasons: list[Reason] = []

    def check(rule: str, ok: bool, yes: Message, no: Message) -> None:
        reasons.append(Reason(rule, ok, yes if ok else no))

    if f.status == "F1":
        reasons.append(
            Reason("status", True, msg("F1: theo dõi tại nhà, chưa phải ca bệnh cần điều trị"))
        )
        return Eligibility(ELIGIBLE, tuple(reasons), rules["version"])
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
        check(
            "respiratory_rate",
            f.respiratory_rate <= rules["rr_at_most"],
            msg("Nhịp thở {rr}/phút, trong giới hạn", rr=f.respiratory_rate),
            msg(
                "Nhịp thở {rr}/phút, trên {limit}/phút",
                rr=f.respiratory_rate,
                limit=rules["rr_at_most"],
            ),
        )
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
        young = (
            f.age is not None
            and f.age > rules["age_above"]
            and f.age < rules["age_below"]
            and healthy
            and not f.pregnant
        )
        check(
            "vaccination_or_low_risk",
            _vaccinated(f, rules, on) or young,
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
