"""Text as the lexicon and the model see it: folded, with chat abbreviations spelled out.

Citizens write with and without diacritics, in chat shorthand and with stretched letters
("khoooo thởởở"). Everything is folded first (`hotline.text.fold`), so one table of
abbreviations over diacritic-free words covers "đc", "dc" and "ĐC" alike.
"""

from __future__ import annotations

import re

from hotline.text import fold

# Folded token -> folded expansion. Only whole tokens are replaced, so "50k" (money) and
# "f0" stay as they are. Ambiguous shorthand takes the reading most common in requests to a
# hotline ("e" is "em", "bn" is "bạn"); "a" stays, since the particle "ạ" folds to it too.
ABBREVIATIONS: dict[str, str] = {
    "ko": "khong",
    "k": "khong",
    "kh": "khong",
    "kg": "khong",
    "khg": "khong",
    "hk": "khong",
    "hok": "khong",
    "hem": "khong",
    "hong": "khong",
    "kp": "khong phai",
    "kbh": "khong bao gio",
    "dc": "duoc",
    "dk": "duoc",
    "dcj": "duoc",
    "dky": "dang ky",
    "dki": "dang ky",
    "ng": "nguoi",
    "ngta": "nguoi ta",
    "mn": "moi nguoi",
    "mng": "moi nguoi",
    "e": "em",
    "mk": "minh",
    "mik": "minh",
    "mjk": "minh",
    "bn": "ban",
    "sdt": "so dien thoai",
    "dt": "dien thoai",
    "dthoai": "dien thoai",
    "vs": "voi",
    "j": "gi",
    "r": "roi",
    "ntn": "nhu the nao",
    "bh": "bao gio",
    "bjo": "bao gio",
    "bt": "binh thuong",
    "bthg": "binh thuong",
    "bv": "benh vien",
    "bs": "bac si",
    "xn": "xet nghiem",
    "xnghiem": "xet nghiem",
    "tn": "test nhanh",
    "vx": "vac xin",
    "vacxin": "vac xin",
    "vaccin": "vac xin",
    "vaccine": "vac xin",
    "vacine": "vac xin",
    "vaxin": "vac xin",
    "ck": "chong",
    "vk": "vo",
    "ae": "anh em",
    "trc": "truoc",
    "ns": "noi",
    "bik": "biet",
    "bjk": "biet",
    "bit": "biet",
    "dag": "dang",
    "dg": "dang",
    "ms": "moi",
    "cx": "cung",
    "cg": "cung",
    "lm": "lam",
    "ktra": "kiem tra",
    "kt": "kiem tra",
    "hqua": "hom qua",
    "hnay": "hom nay",
    "hn": "hom nay",
    "nhiu": "nhieu",
    "nhju": "nhieu",
    "wa": "qua",
    "qa": "qua",
    "iem": "em",
    "ui": "oi",
    "tks": "cam on",
    "thanks": "cam on",
    "thank": "cam on",
    "ubnd": "uy ban",
    "ub": "uy ban",
    "ubp": "uy ban phuong",
    "ubx": "uy ban xa",
    "cskv": "canh sat khu vuc",
    "cccd": "can cuoc",
    "cmnd": "can cuoc",
    "ktx": "ky tuc xa",
    "tp": "thanh pho",
    "tphcm": "thanh pho ho chi minh",
    "hcm": "ho chi minh",
    "sg": "sai gon",
    "bhxh": "bao hiem xa hoi",
    "ld": "lao dong",
    "cn": "cong nhan",
    "gd": "gia dinh",
    "gdinh": "gia dinh",
    "sp02": "spo2",
    "sop2": "spo2",
    "spo": "spo2",
    "oxi": "oxy",
    "oxygen": "oxy",
    "covid19": "covid",
    "cv19": "covid",
    "ksl": "khu cach ly",
    "kcl": "khu cach ly",
    "cly": "cach ly",
    "ttyt": "trung tam y te",
    "tyt": "tram y te",
}

_STRETCHED = re.compile(r"([a-z])\1{2,}")
# "spo2:91" and "spo291" both mean SpO2 91%.
_SPO2_GLUED = re.compile(r"\b(spo2|sp02|sop2)(\d{2,3})\b")
_NUMBER_UNIT = re.compile(r"\b(\d+(?:[.,]\d+)?)(do|c|tuoi|t|h|ngay|lan|nguoi|thang)\b")


def _unstretch(match: re.Match[str]) -> str:
    # Folded Vietnamese doubles "u" often ("cứu" -> "cuu") and "o" almost never ("xoong"):
    # a run of three or more is emphasis.
    ch = match.group(1)
    return ch * 2 if ch == "u" else ch


def normalise(text: str) -> str:
    """Folded text with stretched letters shortened and chat abbreviations expanded."""
    folded = fold(text)
    folded = _STRETCHED.sub(_unstretch, folded)
    if "sp" in folded or "sop" in folded:  # most texts name no SpO2: skip the scan
        folded = _SPO2_GLUED.sub(r"spo2 \2", folded)
    folded = _NUMBER_UNIT.sub(r"\1 \2", folded)
    words = [ABBREVIATIONS.get(w, w) for w in folded.split(" ") if w]
    return " ".join(words)
