"""Urgency rules: named phrases over normalised text that must never be missed.

The model learns urgency too, but a rare phrasing of an emergency is exactly what a model
trained on a few thousand messages can miss. These rules are the safety net: each is a
reason an operator can read ("khó thở: 'kho tho'"). They favour recall; a negation just
before the phrase ("không khó thở", "hết sốt") switches a rule off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hotline.messages import Message, msg
from hotline.triage import welfare
from hotline.triage.normalise import normalise

SPO2_URGENT_AT_OR_BELOW = 94  # Ministry of Health home-care guidance: SpO2 <= 94% needs care
SPO2_PLAUSIBLE_MIN = 50


@dataclass(frozen=True)
class Rule:
    code: str
    # What the operator reads, in the page's language (a message).
    label: Message
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class Hit:
    code: str
    label: Message
    phrase: str


def _rule(code: str, label: Message, *alternatives: str) -> Rule:
    body = "|".join(alternatives)
    return Rule(code, label, re.compile(rf"\b(?:{body})\b"))


# Patterns are written against normalise() output: lower case, no diacritics, abbreviations
# spelled out ("ko" -> "khong", "dc" -> "duoc").
RULES: tuple[Rule, ...] = (
    _rule(
        "kho_tho",
        msg("Khó thở"),
        r"kho tho",
        r"kho ho hap",
        r"khong tho (?:duoc|noi)",
        r"tho (?:doc|gap|hut hoi|ngap|khong noi|khong ra hoi|rit)",
        r"hut hoi",
        r"ngop tho",
        r"tho khong duoc",
        r"tho met",
        r"tho hon hen",
        r"khong the tho",
        r"tho kho",
        r"tho khoe khe",
        r"ngap ca",
        r"tho (?:rat |qua )?nhanh",
        r"thoi thop",
        r"nhip tho (?:2[5-9]|[3-9]\d)",
        r"suy ho hap",
        r"(?:len )?con hen(?: suyen)? (?:nang|cap)",
        r"len con hen",
        r"nghen(?: thuc an)?",
        r"hoc (?:hat|xuong|di vat|thuc an|dong xu)",
    ),
    _rule(
        "oxy",
        msg("SpO2 đang tụt, thiếu oxy"),
        r"spo2 (?:dang |van |cu )?(?:tut|giam|xuong|thap)",
        r"(?:het|sap het|thieu) (?:binh )?oxy",
        r"binh oxy (?:sap |da )?het",
        r"may (?:tao |tho )?oxy (?:bi )?(?:hong|hu|loi|bao loi)",
        r"tho (?:may|oxy)[a-z ]{0,25}(?:mat dien|het|tut)",
        r"oxy khan",
        r"tut spo2",
    ),
    _rule("ngung_tho", msg("Ngừng thở, ngừng tim"), r"ngung (?:tho|tim)", r"tim ngung dap"),
    _rule(
        "bat_tinh",
        msg("Bất tỉnh, lơ mơ"),
        r"bat tinh",
        r"ngat (?:xiu|lim|di)",
        r"xiu (?:nga|di|roi)",
        r"(?<!ngot )ngat",
        r"nam guc",
        r"la di",
        r"met la",
        r"khong (?:cu dong|dung day|nhan ra ai)",
        r"nga quy",
        r"(?:goi|go cua) (?:khong|chang) (?:thay )?(?:tra loi|mo cua)",
        r"khong mo cua \d+ ngay",
        r"hon me",
        r"li bi",
        r"lo mo",
        r"mat y thuc",
        r"(?:goi|lay) (?:khong|chang) (?:thay )?(?:tinh|day|tra loi)",
        r"khong (?:con )?tinh tao",
        r"khong tinh",
        r"nam bat dong",
        r"lim di",
        r"khong goi (?:day|tinh)",
        r"mat tinh",
        r"lu lan",
    ),
    _rule(
        "co_giat",
        msg("Co giật"),
        r"co giat",
        r"giat kinh",
        r"len con (?:dong kinh|giat)",
        r"dong kinh (?:tai phat|len con)",
        r"sui bot mep",
        r"trom mat",
    ),
    _rule(
        "tim_tai",
        msg("Tím tái"),
        r"tim tai",
        r"moi (?:tim|tham|tai (?:xanh|tim|nhot))",
        r"tai (?:tim|nhot|xanh)",
        r"(?:mat|da|tay chan) tim",
    ),
    _rule(
        "dau_nguc",
        msg("Đau ngực, tức ngực"),
        r"dau (?:nguc|that nguc|tim)",
        r"tuc nguc",
        r"dau (?:nhoi|that) o nguc",
        r"nang nguc",
        r"nhoi nguc",
    ),
    _rule(
        "chay_mau",
        msg("Chảy máu nhiều"),
        r"chay (?:rat )?nhieu mau",
        r"chay mau (?:nhieu|khong (?:cam|ngung|dung)|xoi xa|dam dia|lenh lang)",
        r"mat (?:nhieu )?mau",
        r"bang huyet",
        r"(?:ho|non|oi|di ngoai) ra mau",
        r"mau (?:chay|phun|ra) (?:nhieu|xoi xa|lenh lang|khong ngung)",
        r"dam mau",
        r"ra mau nhieu",
        r"mau chay (?:uot|nhieu|ra nhieu)",
        r"mau nhieu",
        r"xuat huyet (?:nao|tieu hoa|nhieu|duoi da)",
        r"be dau",
        r"vo dau",
    ),
    _rule(
        "chuyen_da",
        msg("Chuyển dạ, sắp sinh"),
        r"chuyen da",
        r"vo oi",
        r"ri oi",
        r"sap (?:sinh|de)",
        r"dau bung de",
        r"ra nuoc oi",
        r"de (?:ruot|roi|o nha)",
        r"nhau chua ra",
        r"(?:bau|thai|mang thai|co thai)[a-z0-9 ]{0,25}(?:ra mau|dau bung|ra nuoc)",
        r"con co (?:tu cung|gon)",
        r"dang de",
        r"de rot",
        r"ra huyet",
        r"bau (?:ra mau|dau bung|bi ngat|chay mau)",
        r"dang mang thai .{0,30}(?:dau bung|ra mau)",
    ),
    _rule(
        "dot_quy",
        msg("Dấu hiệu đột quỵ"),
        r"dot quy",
        r"tai bien",
        r"meo (?:mieng|mat)",
        r"liet (?:nua nguoi|tay|chan|2 chan|hai chan)",
        r"dot ngot[a-z ]{0,25}(?:khong nhan ra|noi lan|lan lon|yeu)",
        r"noi (?:ngong|lap)",
        r"yeu nua nguoi",
        r"nhoi mau (?:nao|co tim)",
        r"liet (?:mot|1) ben",
    ),
    _rule(
        "bao_luc",
        msg("Đánh nhau, hành hung đang xảy ra"),
        r"danh nhau",
        r"(?:dang|bi) (?:bi )?danh(?! (?:trong nguc|cap|thue|gia|dau))",
        r"hon chien",
        r"ma tau",
        r"(?:tieng )?sung no",
        r"tieng sung",
        r"bop co",
        r"doa giet",
        r"dap cua",
        r"dot nhap",
        r"cay cua",
        r"(?:trom|ke gian|cuop) dang",
        r"dang co (?:trom|cuop)",
        r"cuop",
        r"tien chuoc",
        r"bam theo",
        r"(?:keu|ket) cuu",
        r"danh (?:dap|hoi dong|vo|con|nguoi|chet)",
        r"hanh hung",
        r"dam (?:nhau|chet|trong thuong|vao nguoi)",
        r"bi dam",
        r"chem(?! gio)(?: nhau| nguoi| giet)?",
        r"(?:cam|dung|vung|cam theo) (?:dao|rua|kiem|ma tau|hung khi|gay|gach|sung)",
        r"nem (?:gach|da|chai|lo)",
        r"vung dao",
        r"hung khi",
        r"no sung",
        r"ban (?:nhau|sung)",
        r"(?:dang|bi) cuop",
        r"cuop (?:giat|tai san|xe)",
        r"dap pha",
        r"dot nha",
        r"xo xat",
        r"au da",
        r"bao luc gia dinh",
        r"bat coc",
        r"de doa giet",
        r"giet (?:nguoi|chet)",
        r"xong vao nha",
        r"tan cong",
    ),
    _rule(
        "tu_tu",
        msg("Nguy cơ tự tử"),
        r"tu tu",
        r"muon chet",
        r"khong muon song",
        r"nhay (?:cau|lau|song|tu tang)",
        r"uong thuoc (?:chuot|tru sau|sau)",
        r"tu sat",
        r"ket lieu",
        r"treo co",
        r"rach tay",
    ),
    _rule(
        "tai_nan",
        msg("Tai nạn, chấn thương nặng"),
        r"tai nan",
        r"nga (?:tu|cau thang|xe)[a-z ]{0,20}(?:bat tinh|khong day|chay mau|gay)",
        r"gay (?:xuong|chan|tay|co)",
        r"dien giat",
        r"bi giat dien",
        r"duoi nuoc",
        r"chet duoi",
        r"ngo doc",
        r"soc phan ve",
        r"bong nang",
        r"chay nha",
        r"hoa hoan",
        r"chay lon",
        r"sap nha",
        r"ran (?:doc )?can",
        r"va cham",
        r"(?:lat|tong) xe",
        r"xe[a-z ]{0,10} lat",
        r"mac ket",
        r"de len nguoi",
        r"bi de(?! doa)",
        r"cay do",
        r"set danh",
        r"ong dot",
        r"nuot phai",
        r"uong nham",
        r"soc nhiet",
        r"say nang",
        r"nga (?:tu (?:tren|lau|tang|cay|mai|giuong|cau thang)|xuong)",
        r"bong (?:nuoc soi|lua|xang)",
        r"phong rop",
        r"chay (?:xe|kho|nha kho)",
        r"lua (?:lan|chay|bung)",
        r"sap tuong",
        r"ket (?:trong|ben trong) (?:xe|thang may|nha)",
    ),
    _rule(
        "nguy_kich",
        msg("Tình trạng nguy kịch"),
        r"nguy kich",
        r"nguy hiem tinh mang",
        r"sap chet",
        r"hap hoi",
        r"tro mat",
        r"dang (?:chet|hap hoi)",
        r"cap cuu",
        r"goi 115",
        r"xe 115",
        r"so cuu",
        r"xe cap cuu",
        r"sos",
        r"khan cap",
        r"tro tay khong kip",
    ),
    _rule(
        "tre_sot_cao",
        msg("Trẻ nhỏ sốt cao"),
        r"(?:be|chau|con|tre|so sinh)\b[a-z0-9 ]{0,40}"
        r"sot (?:cao )?(?:4[0-2]|39 ?[5-9]|cao khong ha)",
        r"sot (?:cao )?(?:4[0-2])(?: do| c)?",
        r"sot cao khong (?:ha|giam|dut)",
    ),
    _rule(
        "trieu_chung_nang",
        msg("Triệu chứng nặng"),
        r"dau bung (?:du doi|quan quai|tung con)",
        r"non (?:ra mau|lien tuc|nhieu|oi lien tuc)",
        r"co cung",
        r"dau dau (?:du doi|nhu bua bo)",
        r"sot[a-z0-9 ]{0,10} khong ha",
        r"mat trung",
        r"khong uong duoc nuoc",
        r"sung (?:mat|moi|hong)",
        r"(?:tut|ha) huyet ap",
        r"huyet ap (?:tut|ha|[1-7]\d \d{2})\b",
        r"mach (?:yeu|nhanh|cham|khong bat duoc)",
        r"(?:tut|ha) duong huyet",
        r"duong huyet (?:tut|thap|[1-3] \d)\b",
        r"soc (?:thuoc|phan ve)",
        r"qua lieu",
        r"uong (?:ca|nhieu|het) (?:vi |lo |hop )?thuoc",
    ),
)

_SPO2 = re.compile(
    r"\b(?:spo2|spo 2|sp o2|nong do oxy|chi so oxy|do oxy|oxy mau|oxy|sp)"
    r"(?: (?:chi|con|co|la|o|muc|khoang|tam|tu|do|duoi|xuong|tut|giam|moi|thi|duoc|ra|dao|dong"
    r"|hien|nay|luc|sang|toi|chieu|dem|dang|bay|gio|khi|lan|vua|thap|cua|me|bo|ong|ba|em|chi"
    r"|hom|van|cu|sau|truoc|ca|ngay|chi))*"
    r" (\d{2,3})(?: (\d{2,3}))?\b"
)
_ANY_RULE = re.compile("|".join(f"(?:{rule.pattern.pattern})" for rule in RULES))


def _without_lookarounds(pattern: str) -> str:
    """`pattern` with its lookaround groups dropped: it matches wherever `pattern` does.

    A lookaround can see across a clause's edge in the whole text ("ngọt, ngất" is
    "ngot ngat" there, and `(?<!ngot )ngat` misses it); without them the whole-text
    pre-check can only match more, never less."""
    out, i = [], 0
    while i < len(pattern):
        if pattern[i] == "\\":
            out.append(pattern[i : i + 2])
            i += 2
        elif pattern.startswith(("(?=", "(?!", "(?<=", "(?<!"), i):
            depth = 0
            while True:  # to the group's closing parenthesis
                depth += {"(": 1, ")": -1}.get(pattern[i], 0)
                i += 2 if pattern[i] == "\\" else 1
                if depth == 0:
                    break
        else:
            out.append(pattern[i])
            i += 1
    return "".join(out)


def at_word_starts(patterns: list[str]) -> re.Pattern[str]:
    """Any of `patterns`, each `\\b` then a word character, searched in " " + a normalised text.

    A normalised text is words of word characters joined by single spaces, so a word
    boundary before a word character stands at the start or just after a space: a leading
    space in place of each `\\b` finds the same matches. The expression then starts with a
    literal, which `re` looks for directly, trying the thousands of alternatives only at
    the dozen words' starts instead of at every character (half the time of `is_urgent`).
    tests/triage check every rule's shape and the two forms on the corpus."""
    bodies = []
    for pattern in patterns:
        if not pattern.startswith("\\b"):
            raise ValueError(f"a lexicon pattern must start with \\b: {pattern[:40]!r}")
        bodies.append(f"(?:{pattern[2:]})")
    return re.compile(" (?:" + "|".join(bodies) + ")")


# Whole-text pre-checks (is_urgent): every rule and every phrase that can start the welfare
# rule, lookarounds dropped.
WHOLE_PATTERNS = [
    _without_lookarounds(p.pattern) for p in (*(rule.pattern for rule in RULES), _SPO2)
]
WELFARE_PATTERNS = [p.pattern for p in welfare.TRIGGERS]
_ANY_WHOLE = at_word_starts(WHOLE_PATTERNS)
_ANY_WELFARE = at_word_starts(WELFARE_PATTERNS)
_NEGATIONS = {"khong", "chua", "het", "khoi", "dut", "bot", "giam", "tung"}
_DENIED_SIGNS = re.compile(
    r"\b(?:khong|chua) (?:co|thay|bi)(?: (?:dau hieu|bieu hien|trieu chung|gi))?$"
)
# Decimal points and commas ("39,5 độ") do not end a clause.
_CLAUSES = re.compile(r"[;!?\n()\[\]]+|(?<!\d)[.,]+|[.,]+(?!\d)|\s-\s|\bnhung\b|\bma\b")


def _negated(clause: str, start: int) -> bool:
    # Only the words just before a phrase deny it: "ko sốt, khó thở" is two clauses, and
    # "không thở được" is itself a rule, matched from its first word.
    before = clause[:start].split()
    if before and before[-1] in {"the", "duoc"}:
        return False
    if any(w in _NEGATIONS for w in before[-2:]):
        return True
    return bool(_DENIED_SIGNS.search(" ".join(before[-4:])))


def scan(text: str) -> list[Hit]:
    """The urgent reasons found in a text, one per rule, each with the matched phrase."""
    clauses = [normalise(c) for c in _CLAUSES.split(text)]
    clauses = [c for c in clauses if c]
    hits: dict[str, Hit] = {}
    for clause in clauses:
        spo2 = _spo2_hit(clause)
        if spo2 and spo2.code not in hits:
            hits[spo2.code] = spo2
        for rule in RULES:
            if rule.code in hits:
                continue
            for match in rule.pattern.finditer(clause):
                if not _negated(clause, match.start()):
                    hits[rule.code] = Hit(rule.code, rule.label, match.group(0))
                    break
    phrase = welfare.welfare_phrase(clauses, _negated)
    if phrase is not None:
        hits[welfare.CODE] = Hit(welfare.CODE, welfare.LABEL, phrase)
    return list(hits.values())


def _spo2_hit(norm: str) -> Hit | None:
    for match in _SPO2.finditer(norm):
        values = [int(v) for v in match.groups() if v]
        low = [v for v in values if SPO2_PLAUSIBLE_MIN <= v <= SPO2_URGENT_AT_OR_BELOW]
        if low:
            label = msg("SpO2 thấp (≤ {limit}%)", limit=SPO2_URGENT_AT_OR_BELOW)
            return Hit("spo2_thap", label, match.group(0))
    return None


def is_urgent(text: str, normalised: str | None = None) -> bool:
    """Whether `scan` finds any reason, stopping at the first (intake asks this per case).

    `normalised` is `normalise(text)` when the caller has it. Most texts name no sign at
    all: the whole text is looked at once before clause by clause. That is exact, because
    the rules have no anchors and normalising is word by word, so every clause's
    normalised words stand, space-delimited, in the whole text's: a rule or reading that
    matches none of the whole matches no clause (lookarounds, which could see across a
    clause's edge there, are left out of that first look). The welfare rule needs one of
    its trigger phrases, so it is only worked out when one stands in the whole text."""
    whole = normalise(text) if normalised is None else normalised
    spaced = " " + whole  # see at_word_starts
    maybe_welfare = _ANY_WELFARE.search(spaced) is not None
    if not maybe_welfare and _ANY_WHOLE.search(spaced) is None:
        return False
    clauses = []
    for raw in _CLAUSES.split(text):
        clause = normalise(raw)
        if not clause:
            continue
        clauses.append(clause)
        if _spo2_hit(clause) is not None:
            return True
        # One pass of all the rules' phrases first: most clauses match none of them.
        if _ANY_RULE.search(clause) is None:
            continue
        for rule in RULES:
            for match in rule.pattern.finditer(clause):
                if not _negated(clause, match.start()):
                    return True
    return maybe_welfare and welfare.welfare_phrase(clauses, _negated) is not None
