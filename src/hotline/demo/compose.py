"""Text composition for demo records: names, phones, addresses, wards and descriptions."""

from __future__ import annotations

import random
import unicodedata
from functools import lru_cache

from vietnam_provinces import ProvinceCode, Ward

from . import names as N
from .replies import GREETINGS, LOCATION_TAILS
from .texts import CALL_NOTE_PREFIXES, CHAT_ABBREVIATIONS, MESSAGE_SUFFIXES, TEMPLATES

# Viettel, Vinaphone, MobiFone, Vietnamobile and Gmobile prefixes in use since 2018.
MOBILE_PREFIXES = (
    "032", "033", "034", "035", "036", "037", "038", "039", "056", "058", "070", "076", "077",
    "078", "079", "081", "082", "083", "084", "085", "086", "088", "090", "091", "093", "094",
    "096", "097", "098",
)  # fmt: skip

CHAT_CHANNELS = frozenset({"zalo", "facebook", "viber", "sms", "app"})


def phone(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**7):07d}"


def full_name(rng: random.Random, male: bool | None = None) -> str:
    family = rng.choices(_FAMILIES, cum_weights=_FAMILY_CUM)[0]
    if male is None:
        male = rng.random() < 0.5
    if male:
        return f"{family} {rng.choice(N.MALE_MIDDLE_NAMES)} {rng.choice(N.MALE_GIVEN_NAMES)}"
    return f"{family} {rng.choice(N.FEMALE_MIDDLE_NAMES)} {rng.choice(N.FEMALE_GIVEN_NAMES)}"


_FAMILIES = tuple(f for f, _ in N.FAMILY_NAMES)
_FAMILY_CUM = tuple(sum(w for _, w in N.FAMILY_NAMES[: i + 1]) for i in range(len(N.FAMILY_NAMES)))


@lru_cache(maxsize=4)
def wards(province: int, wanted: tuple[tuple[str, int], ...] | None) -> tuple[tuple, tuple]:
    """(codes, names) and weights of the wards used by a profile, looked up by name."""
    found = {" ".join(w.name.split()): w for w in Ward.iter_by_province(ProvinceCode(province))}
    if wanted is None:
        wanted = tuple((n, 3 if n.startswith("Phường") else 1) for n in found)
    missing = [n for n, _ in wanted if n not in found]
    if missing:
        raise LookupError(f"wards not in vietnam_provinces: {missing}")
    items = tuple((f"{found[n].code.value:05d}", n) for n, _ in wanted)
    return items, tuple(w for _, w in wanted)


def address(rng: random.Random, hanoi: bool) -> str:
    a = rng.randint(1, 250)
    if hanoi:
        street = rng.choice(N.HA_NOI_STREETS)
        form = rng.randrange(4)
        if form == 0:
            return f"Số {a} ngõ {rng.randint(2, 400)} phố {street}"
        if form == 1:
            return f"Số {a} ngách {rng.randint(2, 90)}/{rng.randint(2, 300)} phố {street}"
        if form == 2:
            room = f"{rng.randint(1, 12)}0{rng.randint(1, 9)}"
            return f"Phòng {room} nhà B{rng.randint(1, 9)}, phố {street}"
        return f"Số {a} phố {street}"
    street = rng.choice(N.BINH_DUONG_STREETS)
    if not street.startswith(("Quốc lộ", "Đại lộ")):
        street = "đường " + street
    form = rng.randrange(3)
    if form == 0:
        return f"Số {a}/{rng.randint(1, 40)} {street}, {rng.choice(N.BINH_DUONG_QUARTERS)}"
    if form == 1:
        return f"Phòng {rng.randint(1, 30)} dãy trọ số {a} {street}"
    return f"Số {a} {street}, {rng.choice(N.BINH_DUONG_QUARTERS)}"


def _strip_accents(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def describe(rng: random.Random, cat: str, channel: str, ctx: dict[str, str]) -> str:
    tpl = rng.choice(TEMPLATES[cat])
    text = tpl.format_map(ctx)
    if "{addr}" not in tpl and "{ward}" not in tpl and rng.random() < 0.6:
        text += rng.choice(LOCATION_TAILS).format_map(ctx)
    if channel == "phone":
        text = rng.choice(CALL_NOTE_PREFIXES).format_map(ctx) + text
    else:
        greeting = rng.choice(GREETINGS)
        first = text.split(" ", 1)[0]
        # Lower-case "Tôi" after "Chào tổng đài, " but keep "F0", "UBND" and "SpO2" intact.
        if greeting and first.isalpha() and first[1:] == first[1:].lower():
            text = text[0].lower() + text[1:]
        text = greeting + text + rng.choice(MESSAGE_SUFFIXES)
    text = text[0].upper() + text[1:]
    if channel in CHAT_CHANNELS and rng.random() < 0.1:
        for long, short in CHAT_ABBREVIATIONS:
            text = text.replace(long, short)
        if rng.random() < 0.6:
            text = _strip_accents(text)
    return text


def context(rng: random.Random, hanoi: bool, ward_name: str, addr: str) -> dict[str, str]:
    male = rng.random() < 0.48
    return {
        "contact": full_name(rng, male),
        "title": "Anh" if male else "Chị",
        "name_m": full_name(rng, True),
        "name_f": full_name(rng, False),
        "ward": ward_name[0].lower() + ward_name[1:],
        "addr": addr[0].lower() + addr[1:],  # mid-sentence: "ở số 12 ngõ 45"
        "street": rng.choice(N.HA_NOI_STREETS if hanoi else N.BINH_DUONG_STREETS),
        "n": str(rng.randint(2, 8)),
        "nn": str(rng.randint(10, 60)),
        "age": str(rng.randint(60, 95)),
        "age_y": str(rng.randint(18, 55)),
        "kid": str(rng.randint(1, 12)),
        "days": str(rng.randint(2, 14)),
        "spo2": str(rng.randint(84, 93)),
        "temp": f"{38 + rng.randrange(21) / 10:.1f}".replace(".", ","),
        "when": rng.choice(N.WHEN_PHRASES),
        "rel": rng.choice(N.RELATIVES),
        "name": full_name(rng),
        "hour": f"{rng.choice((5, 6, 7, 8, 9, 10, 11, 13, 14, 17, 18, 19, 20, 21, 22, 23))}h",
        "money": rng.choice(N.MONEY_AMOUNTS),
        "company": f"{rng.choice(N.COMPANY_KINDS)} {rng.choice(N.COMPANY_BRANDS)}",
        "place": rng.choice(N.PLACES_HA_NOI if hanoi else N.PLACES_BINH_DUONG),
        "site": rng.choice(N.SITES_HA_NOI if hanoi else N.SITES_BINH_DUONG),
    }
