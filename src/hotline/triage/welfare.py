"""Welfare checks: someone at home who cannot be reached, or is getting worse, and is alone,
old or ill. A lexicon rule (`kiem_tra_an_toan`) that looks at the whole message.

No single phrase says it: "không liên lạc được" is as often about a ward office as about a
grandmother, and "sống một mình" is most often a request for support. What makes a report
urgent is a combination, usually spread over several clauses ("bà 84 tuổi sống một mình, từ
tối qua gọi không ai bắt máy"):

- a sign that the person does not answer (phone, door, not seen for days) together with a
  sign of who they are (alone, old, ill, pregnant, disabled) or that they are inside (door
  locked from inside, light on, moaning), or that they were getting worse;
- a carer's or relative's report that a vulnerable person is getting worse ("yếu dần",
  "ngày càng mệt", "trở nặng");
- someone old or ill who cannot get up, or after a fall; a bedridden person nobody feeds.

What does not count: the one not answering is an office or a service ("gọi phường không nghe
máy"), the person is in a treatment or isolation facility, the message asks about papers or
benefits, the question is hypothetical ("nếu trở nặng thì làm gì"), there is an ordinary
cause ("mất sóng", "điện thoại hỏng"), or a later clause says it is over ("đã liên lạc được
rồi", "bà vẫn khỏe"). Each phrase is also switched off by the lexicon's negation ("không còn
ở một mình").
"""

from __future__ import annotations

import re
from collections.abc import Callable

from hotline.messages import msg

CODE = "kiem_tra_an_toan"
LABEL = msg("Cần kiểm tra an toàn")

Negated = Callable[[str, int], bool]


def _alt(*alternatives: str) -> re.Pattern[str]:
    return re.compile(rf"\b(?:{'|'.join(alternatives)})\b")


# Patterns are written against normalise() output, like the lexicon's. The trigger families
# (TRIGGERS: one of them must match) have no lookarounds: their union, over the whole
# text, is is_urgent's exact pre-check for this rule.
UNREACHABLE = _alt(
    r"(?:khong|chang|chua) (?:ai )?(?:nghe|bat|nhac|boc) (?:may|dien thoai|dien)",
    r"(?:khong|chang|chua) (?:ai )?(?:lien lac|lien he) (?:duoc|noi)",
    r"khong (?:the )?goi (?:dien )?(?:duoc|dc)",
    r"mat lien lac",
    r"bat vo am tin",
    r"thue bao",
    r"(?:goi|dien|nhan tin|nhan)(?: [a-z0-9]+){0,4} (?:khong|chang|chua) (?:ai )?"
    r"(?:nghe|tra loi|dap|thua|duoc|xem|doc|rep|bat|ra)(?: may| dien thoai)?",
    r"(?:go|dap|goi|bam chuong)(?: cua)?(?: [a-z]+){0,3} (?:khong|chang) (?:ai )?"
    r"(?:tra loi|mo|ra|thua|len tieng)",
    r"khong (?:thay |ai )?(?:ra )?mo cua",
    r"khong (?:ai )?thay (?:[a-z]+ )?(?:ra ngoai|ra vao|di ra|dau|dong tinh|ra lay|bong dang)",
    r"khong (?:co )?dong tinh",
    r"(?:may|\d+|hai|ba|nhieu|vai) (?:ngay|hom|tuan) (?:nay |roi |lien )?khong ai (?:thay|gap)",
)
WORSENING = _alt(
    r"yeu (?:dan|di|han|hon)",
    r"(?:ngay|luc|moi luc) cang (?:yeu|nang|met|lo mo|kem|xau|te|li bi|lu)",
    r"tro nang",
    r"chuyen nang",
    r"nang (?:hon|len)",
    r"xau di",
    r"khong (?:an uong|an|uong) (?:gi|duoc)(?: gi)?(?: (?:ca|may|\d+|hai|ba) (?:ngay|hom))?",
    r"an (?:khong|chang) (?:vo|noi)",
)
STUCK = _alt(
    r"(?:khong|chang) (?:tu |the )?(?:dung |ngoi )?(?:day|dung len|ngoi day) (?:duoc|noi)",
    r"nam (?:bat dong|duoi dat|duoi san|tren san|giua nha)",
)
# Nobody feeds someone who cannot feed themselves (DEPENDENT).
NEGLECTED = _alt(r"khong (?:co |con )?(?:ai|nguoi) (?:cho (?:an|uong)|dut com|bon com)")
# A child shut in, or left alone because the adults were taken away (isolation, hospital).
LOCKED_IN = _alt(r"(?:bi )?(?:khoa|nhot)(?: [a-z]+){0,2} (?:trong|o) (?:nha|phong)")
ADULTS_AWAY = _alt(
    r"(?:bo me|ba me|cha me|bo|me|ba|nguoi lon|ca nha)(?: [a-z0-9]+){0,3} (?:di|bi|dang|phai)"
    r"(?: [a-z]+){0,2} (?:cach ly|nhap vien|di vien|vien|cap cuu|dieu tri)"
)
TRIGGERS = (UNREACHABLE, WORSENING, STUCK, NEGLECTED, LOCKED_IN, ADULTS_AWAY)
CHILD = _alt(
    r"con (?:toi|em|minh|tui|nho|gai|trai|be)",
    r"chau (?:toi|em|nho|be|minh)",
    r"(?:em |con )?be(?: (?:nha|trai|gai|nho))?",
    r"tre (?:em|nho|con)",
    r"(?:dua|hai dua|may dua|ba dua) (?:nho|tre|be|con)",
    r"(?:[1-9]|1[0-3]) (?:tuoi|t)",
)
ALONE = _alt(r"(?:(?:o|de|nam)(?: (?:nha|phong))? )?(?:mot|1) minh", r"khong (?:co )?ai (?:o )?nha")
DEPENDENT = _alt(
    r"nam (?:liet giuong|mot cho)",
    r"liet",
    r"khong (?:tu )?(?:an|di lai|di|ngoi day) duoc",
    r"khong tu (?:an|di lai|di)",
)

VULNERABLE = _alt(
    # from the verb on, so that "không còn ở một mình" reads as denied
    r"(?:(?:o|song|nam|de|con)(?: (?:nha|tro|que|phong))? )?(?:mot|1) minh",
    r"neo don",
    r"khong (?:co |con )?(?:ai|nguoi) (?:cham|o cung|o voi|ben canh|trong nha|lo)",
    r"cu (?:ong|ba|gia|ay|nha)",
    r"(?:ong|ba) (?:cu|lao|gia)",
    r"(?:ong|ba) (?:noi|ngoai)",
    r"ong ba (?:noi|ngoai|toi|em|minh)",
    r"nguoi (?:gia|cao tuoi|lon tuoi)",
    r"cao tuoi",
    r"lon tuoi",
    r"gia yeu",
    r"ve huu",
    r"(?:[6-9]\d|1[01]\d) (?:tuoi|t)",
    r"(?:khuyet|tan) tat",
    r"liet",
    r"nam (?:liet giuong|mot cho)",
    r"benh (?:tim|phoi|than|gan|nen|man tinh|nang)",
    r"tieu duong",
    r"huyet ap",
    r"tai bien",
    r"ung thu",
    r"suy (?:tim|than|gan|ho hap)",
    r"dong kinh",
    r"tram cam",
    r"tam than",
    r"tu (?:hai|tu)",
    r"alzheimer",
    r"parkinson",
    r"bi lan",
    r"mat tri nho",
    r"sa sut tri tue",
    r"f0",
    r"covid",
    r"dang (?:om|benh|sot)",
    r"sot cao",
    r"(?:vua|moi) (?:mo|phau thuat|sinh|de)",
    r"mo xong",
    r"(?:mang|co|dang) (?:thai|bau)",
    r"bau thang",
    r"(?:tre|con|chau) (?:nho|so sinh)",
    r"met (?:lam|qua|nhieu|la)",
    r"chong mat",
)
CARER = _alt(
    r"nguoi (?:nha )?cham(?: soc| benh)?",
    r"cham (?:soc|benh)",
    r"giup viec",
    r"benh nhan",
    r"nguoi benh",
)
# Signs that the person is inside: the door locked from inside, a light left on, sounds, smell.
INSIDE = _alt(
    r"khoa (?:cua )?(?:trai |chat )?(?:ben |tu )?trong",
    r"cua (?:van )?(?:khoa|dong)(?: trai| chat)? (?:im|trong|kin|ben trong)",
    r"(?:khoa|dong) cua im",
    r"(?:den|dien)(?: [a-z]+){0,3} van (?:sang|bat)",
    r"tieng (?:ren|keu)",
    r"mui hoi",
    r"(?:bao|com|do an|hang)(?: [a-z]+){0,4} (?:de|treo|van) (?:truoc|ngoai|o) cua",
)
FALL = _alt(r"(?:bi |vua |te )?nga (?:trong|ngoai|o|tu|xuong|ra|tai|luc|roi|khi|gay|dap)")
# The one not answering is an office or a service, not the person.
OFFICE = _alt(
    r"phuong",
    r"(?:uy ban|cong an|tram y te) xa",
    r"uy ban",
    r"tram(?: y te)?",
    r"trung tam",
    r"tong dai",
    r"duong day nong",
    r"hotline",
    r"1022",
    r"11[345]",
    r"bac si",
    r"benh vien",
    r"phong kham",
    r"cong ty",
    r"shipper",
    r"giao hang",
    r"chu (?:tro|nha)",
    r"nguoi cho thue",
    r"ban quan ly",
    r"to (?:truong|dan pho)",
    r"nha mang",
    r"ngan hang",
    r"shop",
    r"cua hang",
    r"so (?:dien thoai|nay|do)",
    r"co quan",
    r"can bo",
)
_OFFICE_BEFORE = re.compile(rf"(?:{OFFICE.pattern})(?: [a-z0-9]+){{0,8}}$")
_OFFICE_AFTER = re.compile(rf"^ (?:(?:voi|cho|den|toi|tu|ben|cua|o) )?(?:{OFFICE.pattern})")
FACILITY = _alt(
    r"khu (?:cach ly|dieu tri)",
    r"cach ly tap trung",
    r"co so (?:cach ly|dieu tri)",
    r"(?:benh vien|bv) da chien",
    r"(?:o|tai|trong) (?:benh vien|bv)",
    r"nam vien",
    r"icu",
)
PAPERWORK = _alt(
    r"tro cap",
    r"che do",
    r"thu tuc",
    r"ho so",
    r"dang ky",
    r"giay to",
    r"xac nhan",
    r"luong huu",
    r"tien ho tro",
    r"goi ho tro",
    r"chinh sach",
)
ASKING = _alt(
    r"(?:cho|xin|muon) hoi",
    r"hoi ve",
    r"co nen",
    r"nen (?:an|uong|boi bo|cho an|lam gi)",
    r"thi(?: [a-z]+){0,3} (?:lam gi|lam sao|xu ly|phai lam)",
)
BENIGN = _alt(
    r"(?:vi|do|tai) (?:[a-z]+ ){0,3}(?:ngu|di (?:cho|lam|choi|vang|ra ngoai)|ban|quen|sac pin)",
    r"mat song",
    r"(?:dien thoai|may) (?:bi )?(?:hong|mat|het pin|roi)",
    r"het pin",
    r"quen (?:mang )?dien thoai",
)
RESOLVED = _alt(
    r"(?:da|vua|moi) (?:lien lac|lien he|goi|gap|thay|tim thay|nghe may|bat may)",
    r"(?:lien lac|lien he|goi) duoc (?:roi|voi)",
    r"(?:van|da) (?:khoe|on|binh thuong|binh an|an toan)",
    r"khong sao",
    r"(?:da|vua) ve",
    r"ve (?:nha )?roi",
    r"(?:da|duoc) (?:dua )?(?:vao|nhap) vien",
    r"khong con o (?:nha )?(?:mot|1) minh",
)
# Words before a phrase that make it a worry or a hypothesis, not a report: anywhere
# earlier in the clause ("nếu F0 cao tuổi trở nặng"), or just before ("sợ trở nặng").
_CONDITIONAL = {"neu", "khi"}
_WORRIED = {"phong", "tranh", "so", "lo"}


def _found(
    pattern: re.Pattern[str], clauses: list[str], negated: Negated
) -> list[tuple[int, str, int, int]]:
    return [
        (i, m.group(0), m.start(), m.end())
        for i, clause in enumerate(clauses)
        for m in pattern.finditer(clause)
        if not negated(clause, m.start())
    ]


def _about_office(clause: str, start: int, end: int) -> bool:
    return bool(_OFFICE_BEFORE.search(clause[:end]) or _OFFICE_AFTER.search(clause[end:]))


def _hypothetical(clause: str, start: int) -> bool:
    before = clause[:start].split()
    return any(w in _CONDITIONAL for w in before) or any(w in _WORRIED for w in before[-3:])


def welfare_phrase(clauses: list[str], negated: Negated) -> str | None:
    """The phrases that make this a welfare check ("khong nghe may, mot minh"), or None.

    `clauses` are the message's normalised clauses; `negated(clause, start)` is the
    lexicon's negation test."""
    unreachable = [
        f
        for f in _found(UNREACHABLE, clauses, negated)
        if not _about_office(clauses[f[0]], f[2], f[3])
    ]
    worsening = [
        f for f in _found(WORSENING, clauses, negated) if not _hypothetical(clauses[f[0]], f[2])
    ]
    stuck = _found(STUCK, clauses, negated)
    neglected = _found(NEGLECTED, clauses, negated)
    text = " ".join(clauses)
    child = _child_alone(clauses, negated, text)
    if child is not None:
        return child
    if not (unreachable or worsening or stuck or neglected):
        return None
    if FACILITY.search(text) or PAPERWORK.search(text) or BENIGN.search(text):
        return None
    last = max(f[0] for f in (*unreachable, *worsening, *stuck, *neglected))
    if any(f[0] >= last for f in _found(RESOLVED, clauses, negated)):
        return None
    vulnerable = _found(VULNERABLE, clauses, negated)
    who = vulnerable or _found(INSIDE, clauses, negated)
    if unreachable and (who or worsening or stuck):
        return _join(unreachable[0], (who or worsening or stuck)[0])
    if stuck and (vulnerable or _found(FALL, clauses, negated)):
        return _join(stuck[0], (vulnerable or _found(FALL, clauses, negated))[0])
    dependent = _found(DEPENDENT, clauses, negated)
    if neglected and dependent:
        return _join(neglected[0], dependent[0])
    if worsening and not ASKING.search(text):
        carer = vulnerable or _found(CARER, clauses, negated)
        if carer:
            return _join(worsening[0], carer[0])
    return None


def _child_alone(clauses: list[str], negated: Negated, text: str) -> str | None:
    """A child shut in at home, or left alone while the adults are in isolation or hospital
    (the adults' facility does not make it calm: the child is not there). Not a question,
    not resolved, not with another adult ("ở với ông bà")."""
    locked = _found(LOCKED_IN, clauses, negated)
    away = _found(ADULTS_AWAY, clauses, negated)
    if not (locked or away) or ASKING.search(text) or text.endswith(("khong", "duoc khong")):
        return None
    child = _found(CHILD, clauses, negated)
    alone = _found(ALONE, clauses, negated)
    if not child or PAPERWORK.search(text) or re.search(r"\bo (?:voi|cung)\b", text):
        return None
    last = max(f[0] for f in (*locked, *away, *alone))
    if any(f[0] >= last for f in _found(RESOLVED, clauses, negated)):
        return None
    if locked:
        return _join(child[0], locked[0])
    if alone:
        return _join(child[0], alone[0])
    return None


def _join(first: tuple[int, str, int, int], second: tuple[int, str, int, int]) -> str:
    # In the order written; quoted piece by piece (quote.py): normalised text has no commas
    # of its own.
    if first[0] == second[0] and first[2] <= second[2] < first[3]:
        return first[1]
    a, b = sorted((first, second), key=lambda f: (f[0], f[2]))
    return f"{a[1]}, {b[1]}"
