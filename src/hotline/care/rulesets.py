"""The clinical rule sets as data, each with its version (docs/care.md, CARE.md's tables).

Risk evaluation (care/risk.py) and eligibility (care/eligibility.py) read only these tables,
so a new decision's thresholds are a new entry here with a new version, chosen by a setting
(`care_warning_signs`, `care_eligibility`); the version of each rule set used is stored with
every result. Thresholds that could not be checked against the decision's own text are
marked `unverified` and listed in docs/care.md ("Unverified thresholds"): a clinician
confirms them before the system is used for patients.

A band list `[(upper, points), ..., (None, points)]` gives the points of the first band whose
upper bound (inclusive) the value does not exceed.
"""

from __future__ import annotations

from typing import Any

Bands = tuple[tuple[float | None, int], ...]

# NEWS2, Royal College of Physicians 2017 (SpO2 scale 1).
NEWS2: dict[str, Any] = {
    "version": "news2-rcp-2017",
    "bands": {
        "respiratory_rate": ((8, 3), (11, 1), (20, 0), (24, 2), (None, 3)),
        "spo2": ((91, 3), (93, 2), (95, 1), (None, 0)),
        "systolic_bp": ((90, 3), (100, 2), (110, 1), (219, 0), (None, 3)),
        "pulse": ((40, 3), (50, 1), (90, 0), (110, 1), (130, 2), (None, 3)),
        "temperature": ((35.0, 3), (36.0, 1), (38.0, 0), (39.0, 1), (None, 2)),
    },
    "oxygen_points": 2,
    # ACVPU: anything but "alert" scores 3.
    "consciousness_points": {"alert": 0, "confusion": 3, "voice": 3, "pain": 3, "unresponsive": 3},
    # Clinical response: total at least `min` (first match), or a 3 in one parameter.
    "responses": ((7, "high"), (5, "medium"), (1, "low"), (0, "low")),
    "single_three": "low_medium",
}

CONSCIOUSNESS = ("alert", "confusion", "voice", "pain", "unresponsive")

# Symptoms a patient, carer or doctor ticks. Mild ones (4038's list) do not bar home care.
MILD_SYMPTOMS = (
    "fever",
    "dry_cough",
    "sore_throat",
    "stuffy_nose",
    "fatigue",
    "headache",
    "muscle_ache",
    "loss_of_taste_smell",
    "diarrhoea",
)
# The severe forms of breathlessness (4689's "severe" level) are warning signs as plain
# breathlessness is: each escalates on its own.
WARNING_SYMPTOMS = (
    "breathlessness",
    "severe_breathlessness",
    "accessory_muscles",
    "grunting",
    "chest_indrawing",
    "nasal_flaring",
    "stridor",
    "chest_pain",
    "confusion",
    "drowsiness",
    "convulsions",
    "cyanosis",
    "cannot_drink",
    "new_acute_illness",
)
OTHER_SYMPTOMS = ("breathless_on_exertion",)
SYMPTOMS = MILD_SYMPTOMS + WARNING_SYMPTOMS + OTHER_SYMPTOMS


def _warning_signs(version: str, rr_adult: int, spo2_max: int, unverified: bool) -> dict[str, Any]:
    return {
        "version": version,
        "symptoms": WARNING_SYMPTOMS,
        # Respiratory rate at or above, by age: (age below, threshold); adults last.
        "respiratory_rate": ((5, 40), (12, 30), (None, rr_adult)),
        "spo2_at_most": spo2_max,
        "pulse_above": 120,
        "pulse_below": 50,
        "systolic_below": 90,
        "diastolic_below": 60,
        "unverified": unverified,
    }


# Warning signs: call the health station / 115 now.
WARNING_SIGNS: dict[str, dict[str, Any]] = {
    "byt-4377-2021": _warning_signs("byt-4377-2021", 21, 95, False),
    "byt-261-2022": _warning_signs("byt-261-2022", 20, 96, False),
}

# Severity, 4689/QĐ-BYT (2021); "critical" unverified. Levels from the top: the first whose
# any condition holds; "asymptomatic" (250/QĐ-BYT) when nothing at all is abnormal.
# 4689's respiratory rates are an adult's: a child under 12 is judged by `rr_by_age` instead
# (age below, the levels' respiratory-rate conditions). Moderate starts at the children's
# warning limit (CARE.md: 1-<5 y 40/min, 5-<12 y 30/min); severe and critical scale the
# adult's steps above it (20 -> 25 -> 30: x1.25, x1.5). Unverified: this system's reading.
SEVERITY: dict[str, Any] = {
    "version": "byt-4689-2021-child-rr",
    "rr_by_age": (
        (
            5,
            {
                "critical": {"rr_above": 60, "rr_below": 10},
                "severe": {"rr_above": 50},
                "moderate": {"rr_at_least": 40},
            },
        ),
        (
            12,
            {
                "critical": {"rr_above": 45, "rr_below": 10},
                "severe": {"rr_above": 37},
                "moderate": {"rr_at_least": 30},
            },
        ),
    ),
    "rr_by_age_unverified": True,
    "order": ("asymptomatic", "mild", "moderate", "severe", "critical"),
    "levels": (
        {
            "level": "critical",
            "unverified": True,
            "rr_above": 30,
            "rr_below": 10,
            "consciousness_not_alert": True,
            "symptoms": ("convulsions", "cyanosis"),
        },
        {
            "level": "severe",
            "rr_above": 25,
            "spo2_below": 94,
            "symptoms": ("severe_breathlessness", "accessory_muscles", "drowsiness"),
        },
        {
            "level": "moderate",
            "rr_at_least": 20,
            "spo2_at_most": 96,
            "symptoms": ("breathless_on_exertion", "breathlessness"),
        },
    ),
}

# Colour tiers (3646/QĐ-BYT names green, yellow, orange, red; its yellow/orange/red criteria
# are unverified, so these are this system's reading, with HCMC CDC's SpO2 cut-offs). The
# first tier whose any condition holds; green otherwise.
TIERS: dict[str, Any] = {
    "version": "tiers-3646-hcmc-2021-r2",
    "unverified": True,
    "order": ("green", "yellow", "orange", "red"),
    "tiers": (
        {"tier": "red", "severity_at_least": "severe", "spo2_below": 94, "news2_at_least": 7},
        {"tier": "orange", "warning_sign": True, "news2_at_least": 5, "single_three": True},
        {"tier": "yellow", "severity_at_least": "moderate", "news2_at_least": 1},
    ),
    # Overall risk answered with each check-in, by tier.
    "risk": {"green": "low", "yellow": "low", "orange": "medium", "red": "high"},
    # A red tier escalates as a warning sign does (an urgent case to the 115 unit and a live
    # alert): severe or critical severity, SpO2 below 94% or NEWS2 7+ (NEWS2's "emergency
    # response"). Orange (NEWS2 5-6 or a single 3: "urgent review") is the doctor's.
    "escalate_at_least": "red",
    # NEWS2 is validated for adults (RCP 2017: 16 and over): a child's tier ignores it.
    "news2_min_age": 16,
}

# Comorbidities listed by 4038/QĐ-BYT, Appendix 01.
COMORBIDITIES = (
    "diabetes",
    "copd_lung_disease",
    "cancer",
    "chronic_kidney_disease",
    "transplant",
    "obesity",
    "heart_disease",
    "cerebrovascular_disease",
    "down_syndrome",
    "hiv",
    "neurological_disease",
    "blood_disorder",
    "asthma",
    "hypertension",
    "immunodeficiency",
    "liver_disease",
    "substance_use",
    "steroid_immunosuppressant",
    "systemic_disease",
    "paediatric_condition",
)

# Who may be cared for at home. A child's breathing is judged by the children's limits of
# the warning signs (CARE.md: 1-<5 y from 40/min, 5-<12 y from 30/min): below them, as an
# adult's below the adult limit. (age below, most per minute); the adult limit after them.
CHILD_RR_AT_MOST = ((5, 39), (12, 29))
ELIGIBILITY: dict[str, dict[str, Any]] = {
    "byt-4038-2021": {
        "version": "byt-4038-2021",
        "rr_at_most": 20,
        "rr_at_most_by_age": CHILD_RR_AT_MOST,
        "spo2_at_least": 96,
        # Vaccinated: this many doses, the last more than `dose_days` before; or young,
        # healthy and not pregnant (age above, below).
        "vaccinated_doses": 1,
        "dose_days": 14,
        "age_above": 1,
        "age_below": 50,
        "comorbidity_bars": True,
        "unverified": False,
    },
    "byt-261-2022": {
        "version": "byt-261-2022",
        "rr_at_most": 19,
        "rr_at_most_by_age": CHILD_RR_AT_MOST,
        "spo2_at_least": 97,
        "vaccinated_doses": None,  # 261 drops the vaccination rule
        "dose_days": 14,
        "age_above": None,
        "age_below": None,
        # 261: no comorbidity, or a stably treated one (the doctor's call: stated on
        # registration as `comorbidities_stable`).
        "comorbidity_bars": True,
        "unverified": False,
    },
}


def rule_set_version(warning_signs: str) -> str:
    """The versions a risk result was computed with, as one string."""
    parts = (NEWS2, WARNING_SIGNS[warning_signs], SEVERITY, TIERS)
    return ";".join(str(p["version"]) for p in parts)
