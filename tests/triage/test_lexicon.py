"""The urgent lexicon: each rule fires on diacritic and plain forms, and negation turns it off."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hotline.triage.corpus import load_corpus, split_corpus
from hotline.triage.lexicon import RULES, is_urgent, scan


def codes(text: str) -> set[str]:
    return {h.code for h in scan(text)}


@pytest.mark.parametrize(
    ("code", "with_marks", "without_marks"),
    [
        ("kho_tho", "Bố tôi khó thở quá", "bo toi kho tho qua"),
        ("kho_tho", "Mẹ em thở dốc", "me e tho doc"),
        ("kho_tho", "Không thở được", "k thở đc"),
        ("ngung_tho", "Ông tôi ngừng thở", "ong toi ngung tho"),
        ("bat_tinh", "Bà ngất xỉu trong nhà tắm", "ba ngat xiu trong nha tam"),
        ("bat_tinh", "Anh ấy bất tỉnh", "anh ay bat tinh"),
        ("bat_tinh", "Cụ nằm li bì, gọi không tỉnh", "cu nam li bi, goi ko tinh"),
        ("co_giat", "Bé lên cơn co giật", "be len con co giat"),
        ("tim_tai", "Môi tím tái", "moi tim tai"),
        ("dau_nguc", "Đau ngực trái dữ dội", "dau nguc trai du doi"),
        ("dau_nguc", "Tức ngực khó chịu", "tuc nguc kho chiu"),
        ("chay_mau", "Chảy máu nhiều ở đầu", "chay mau nhieu o dau"),
        ("chay_mau", "Sản phụ băng huyết", "san phu bang huyet"),
        ("chuyen_da", "Vợ tôi chuyển dạ rồi", "vo toi chuyen da roi"),
        ("chuyen_da", "Chị ấy vỡ ối", "chi ay vo oi"),
        ("dot_quy", "Bà bị méo miệng, nghi đột quỵ", "ba bi meo mieng, nghi dot quy"),
        ("bao_luc", "Hai nhóm đang đánh nhau", "hai nhom dang danh nhau"),
        ("bao_luc", "Có người bị đâm", "co nguoi bi dam"),
        ("bao_luc", "Thanh niên chém nhau ở chợ", "thanh nien chem nhau o cho"),
        ("bao_luc", "Chồng đang đánh vợ", "chong dang danh vo"),
        ("tu_tu", "Bạn em nói muốn chết", "ban e noi muon chet"),
        ("tai_nan", "Tai nạn xe máy ở ngã tư", "tai nan xe may o nga tu"),
        ("tai_nan", "Con tôi bị đuối nước", "con toi bi duoi nuoc"),
        ("oxy", "Bình oxy sắp hết", "binh oxy sap het"),
        ("tre_sot_cao", "Bé sốt 40 độ", "be sot 40 do"),
        ("nguy_kich", "Cần xe cấp cứu", "can xe cap cuu"),
    ],
)
def test_rule_fires_with_and_without_diacritics(
    code: str, with_marks: str, without_marks: str
) -> None:
    assert code in codes(with_marks)
    assert code in codes(without_marks)


def test_every_rule_is_exercised_above() -> None:
    tested = {
        "kho_tho", "ngung_tho", "bat_tinh", "co_giat", "tim_tai", "dau_nguc", "chay_mau",
        "chuyen_da", "dot_quy", "bao_luc", "tu_tu", "tai_nan", "oxy", "tre_sot_cao",
        "nguy_kich",
    }  # fmt: skip
    assert {r.code for r in RULES} - tested <= {"trieu_chung_nang"}


@pytest.mark.parametrize("text", ["spo2 91", "SpO2: 91%", "sp02 89", "spo2 chỉ còn 90", "SpO2 94"])
def test_low_spo2_is_urgent(text: str) -> None:
    hits = [h for h in scan(text) if h.code == "spo2_thap"]
    assert hits and hits[0].phrase.startswith("spo2")


@pytest.mark.parametrize("text", ["spo2 98", "SpO2 96%, mạch 90", "spo2 95", "spo2 binh thuong"])
def test_normal_spo2_is_not_urgent(text: str) -> None:
    assert "spo2_thap" not in codes(text)


@pytest.mark.parametrize(
    "text",
    [
        "F0 ngày 5, ko sốt, ko khó thở, spo2 98",
        "không có dấu hiệu khó thở",
        "hết khó thở rồi",
        "nhà em hết gạo, xin hỗ trợ",
        "cho hỏi lịch tiêm mũi 2",
        "phòng cách ly ngột ngạt quá",
        "đám người tụ tập nhậu ở hẻm",
        "nhà có 50k thôi",
    ],
)
def test_calm_messages_raise_no_rule(text: str) -> None:
    assert scan(text) == []


def test_a_denial_in_one_clause_does_not_hide_a_symptom_in_the_next() -> None:
    assert "kho_tho" in codes("ko sốt, khó thở")


def test_each_reason_names_the_matched_phrase() -> None:
    hits = {h.code: h for h in scan("Ba em khó thở, SpO2 91%, môi tím tái")}
    assert hits["kho_tho"].phrase == "kho tho"
    assert hits["spo2_thap"].phrase == "spo2 91"
    assert hits["tim_tai"].label == "Tím tái"


def test_is_urgent_agrees_with_scan_on_every_corpus_message() -> None:
    """Intake's shortcut (first reason only, one pass of all phrases first) answers as `scan`."""
    train, held_out = split_corpus()
    welfare_set = load_corpus(Path(__file__).parent / "data" / "welfare_heldout.jsonl")
    texts = [e.text for e in (*train, *held_out, *welfare_set)]
    texts += ["không khó thở, spo2 98", "khó thở; ko sốt", "ba e kho tho, spo2 91", ""]
    assert [is_urgent(t) for t in texts] == [bool(scan(t)) for t in texts]
    assert any(is_urgent(t) for t in texts) and not all(is_urgent(t) for t in texts)


def welfare(text: str) -> str | None:
    hits = [h for h in scan(text) if h.code == "kiem_tra_an_toan"]
    assert is_urgent(text) is bool(scan(text))
    return hits[0].phrase if hits else None


@pytest.mark.parametrize(
    ("with_marks", "without_marks"),
    [
        # cannot be reached, and alone, old or ill
        (
            "Mẹ tôi 80 tuổi sống một mình, gọi không nghe máy từ sáng",
            "me toi 80t song 1 minh, goi ko nghe may tu sang",
        ),
        (
            "Bà ngoại ở một mình, 2 ngày nay không liên lạc được",
            "ba ngoai o 1 minh, 2 ngay nay ko lien lac dc",
        ),
        ("Ông cụ neo đơn mất liên lạc từ hôm qua", "ong cu neo don mat lien lac tu hom qua"),
        (
            "Chị tôi mang thai ở nhà một mình, gọi không bắt máy",
            "chi toi mang thai o nha 1 minh, goi k bat may",
        ),
        (
            "Cụ ông sống một mình, không thấy ra ngoài 3 ngày",
            "cu ong song mot minh, ko thay ra ngoai 3 ngay",
        ),
        # locked in, nobody answers the door
        ("Gõ cửa mãi không ai trả lời, cửa khóa trong", "go cua mai ko ai tra loi, cua khoa trong"),
        (
            "Bấm chuông không ai ra, đèn trong nhà vẫn sáng",
            "bam chuong ko ai ra, den trong nha van sang",
        ),
        # a carer or relative reports worsening
        ("Bố em F0 ở nhà một mình, yếu dần", "bo e f0 o nha 1 minh, yeu dan"),
        (
            "Người nhà chăm sóc báo bệnh nhân ngày càng nặng",
            "ng nha cham soc bao benh nhan ngay cang nang",
        ),
        ("Mẹ em bị suy tim, trở nặng từ tối qua", "me e bi suy tim, tro nang tu toi qua"),
        # fallen and cannot get up; bedridden and unfed
        ("Bà tôi 90 tuổi bị ngã, không tự đứng dậy được", "ba toi 90t bi nga, ko tu dung day dc"),
        ("Ông nằm liệt giường, không ai cho ăn 2 ngày", "ong nam liet giuong, ko ai cho an 2 ngay"),
    ],
)
def test_welfare_check_with_and_without_diacritics(with_marks: str, without_marks: str) -> None:
    assert welfare(with_marks)
    assert welfare(without_marks)


@pytest.mark.parametrize(
    "text",
    [
        # the one not answering is an office
        "Không liên lạc được với phường để hỏi tiền hỗ trợ",
        "ko lien lac dc voi phuong",
        "Gọi phường không nghe máy, nhà có người già",
        "Trạm y tế không nghe máy, tôi muốn khai báo nhà có 3 F0",
        "Gọi tổng đài mãi không ai nghe máy, tôi 70 tuổi muốn hỏi lương hưu",
        # papers, benefits, support
        "Người già sống một mình có được hỗ trợ không",
        "Bà tôi sống một mình, xin hỏi thủ tục nhận trợ cấp",
        "cụ già neo đơn cần gạo",
        "Tôi ở một mình, khỏe, muốn hỏi lịch tiêm",
        # in a facility's care; a hypothesis; an ordinary cause
        "Người nhà tôi ở khu cách ly, không liên lạc được 3 ngày",
        "Nếu F0 cao tuổi trở nặng thì gọi ai",
        "Mẹ em 70 tuổi, điện thoại hỏng nên không liên lạc được",
        "mẹ em ko nghe máy vì đang đi chợ, bà 75t",
        # over: reached, not alone any more
        "Hôm qua không liên lạc được với mẹ 80 tuổi, nay đã liên lạc được rồi",
        "hom qua ko lien lac dc voi me 80t, gio lien lac duoc roi",
        "Bà tôi 80 tuổi không còn ở một mình, sáng nay gọi không nghe máy, giờ bà vẫn khỏe",
        # the words alone
        "Mẹ em sau covid yếu dần đi, muốn hỏi nên bồi bổ gì",
        "Mẹ tôi 75 tuổi sống một mình",
        "không liên lạc được",
    ],
)
def test_ordinary_messages_with_the_same_words_are_no_welfare_check(text: str) -> None:
    assert welfare(text) is None
    assert scan(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "Bà tôi không còn ở một mình, gọi không nghe máy",
        "bà tôi không phải ở một mình, gọi ko nghe máy",
        "ông không bị liệt, ko ai cho ăn",
    ],
)
def test_a_denied_vulnerability_does_not_make_a_welfare_check(text: str) -> None:
    assert welfare(text) is None


def test_a_resolution_counts_only_after_the_worry() -> None:
    assert welfare("Hôm qua gọi được, bà vẫn khỏe; sáng nay bà ở một mình, gọi không nghe máy")
    assert welfare("Sáng nay bà ở một mình, gọi không nghe máy; giờ đã liên lạc được rồi") is None


def test_the_welfare_reason_names_both_phrases_in_the_order_written() -> None:
    hits = {h.code: h for h in scan("Bà ngoại em 82 tuổi sống một mình, gọi ko nghe máy")}
    assert hits["kiem_tra_an_toan"].phrase == "ba ngoai, goi khong nghe may"
    assert hits["kiem_tra_an_toan"].label == "Cần kiểm tra an toàn"


@pytest.mark.parametrize(
    "text",
    [
        # a lookaround in the whole text sees across the clause's edge
        "ăn đồ ngọt, ngất",
        "cháu bị đánh. trong ngực đau",
        # the welfare rule's phrases in different clauses
        "bà ở một mình. gọi không nghe máy",
    ],
)
def test_is_urgent_pre_check_never_skips_a_clause_match(text: str) -> None:
    assert scan(text)
    assert is_urgent(text)


def _first_chars(items: Any) -> set[str] | None:
    """The characters a parsed expression can start with; None when it may start otherwise
    (empty, a lookaround, an anchor, a class this walk doesn't expand)."""
    from re import _constants as c  # type: ignore[attr-defined]

    found: set[str] = set()
    for op, arg in items:
        optional = False
        if op is c.LITERAL:
            part: set[str] | None = {chr(arg)}
        elif op is c.SUBPATTERN:
            part = _first_chars(arg[-1])
        elif op is c.BRANCH:
            part = set()
            for branch in arg[1]:
                one = _first_chars(branch)
                if one is None:
                    return None
                part |= one
        elif op is c.IN:
            part = set()
            for kind, value in arg:
                if kind is c.LITERAL:
                    part.add(chr(value))
                elif kind is c.RANGE:
                    part |= {chr(v) for v in range(value[0], value[1] + 1)}
                elif kind is c.CATEGORY and value is c.CATEGORY_DIGIT:
                    part.add("0")
                else:
                    return None
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT):
            part = _first_chars(arg[2])
            optional = arg[0] == 0
        else:
            return None
        if part is None:
            return None
        found |= part
        if not optional:
            return found
    return None  # everything was optional: it may match the empty string


def test_every_whole_text_pre_check_starts_with_a_word_boundary_then_a_word_character() -> None:
    """What makes at_word_starts exact: a boundary before a word character, in a
    normalised text, is a word's start."""
    from re import _constants as c  # type: ignore[attr-defined]
    from re import _parser  # type: ignore[attr-defined]

    from hotline.triage.lexicon import WELFARE_PATTERNS, WHOLE_PATTERNS

    assert len(WHOLE_PATTERNS) == len(RULES) + 1 and WELFARE_PATTERNS
    for pattern in (*WHOLE_PATTERNS, *WELFARE_PATTERNS):
        parsed = list(_parser.parse(pattern))
        assert parsed[0] == (c.AT, c.AT_BOUNDARY), pattern[:40]
        first = _first_chars(parsed[1:])
        assert first is not None and all(ch.isalnum() for ch in first), pattern[:40]


def test_word_start_pre_checks_find_what_the_plain_expressions_find() -> None:
    """The corpus and word soups of the rules' own words (matches at the text's start, in
    the middle, at its end): the word-start form and the plain one agree on every text."""
    import random
    import re

    from hotline.triage.lexicon import WELFARE_PATTERNS, WHOLE_PATTERNS, at_word_starts
    from hotline.triage.normalise import normalise

    rng = random.Random(1022)
    texts = [normalise(m.text) for m in load_corpus()]
    words = sorted({w for t in texts for w in t.split()})
    words += re.findall(r"[a-z0-9]+", " ".join((*WHOLE_PATTERNS, *WELFARE_PATTERNS)))
    texts += [" ".join(rng.choices(words, k=rng.randint(1, 12))) for _ in range(20_000)]
    for patterns in (WHOLE_PATTERNS, WELFARE_PATTERNS):
        plain = re.compile("|".join(f"(?:{p})" for p in patterns))
        spaced = at_word_starts(patterns)
        found = [plain.search(t) is not None for t in texts]
        assert [spaced.search(" " + t) is not None for t in texts] == found
        assert sum(found) > 100


@pytest.mark.parametrize(
    "text",
    [
        "Con tôi bị khóa trong nhà, bố mẹ đi cách ly",
        "con toi bi khoa trong nha, bo me di cach ly",
        "Cháu tôi 6 tuổi bị nhốt trong nhà một mình",
        "Bé nhà em ở nhà một mình, bố mẹ bị đưa đi cách ly từ hôm qua",
        "Hai đứa nhỏ ở nhà một mình vì bố mẹ đi viện cấp cứu",
        "be o nha 1 minh, bo me f0 di cach ly",
    ],
)
def test_a_child_locked_in_or_left_alone_is_a_welfare_check(text: str) -> None:
    assert welfare(text)


@pytest.mark.parametrize(
    "text",
    [
        "Con tôi ở nhà một mình được không khi tôi đi làm?",
        "Cho hỏi bố mẹ đi cách ly thì con ở nhà một mình có được hỗ trợ không",
        "Bố mẹ đi cách ly, con ở với ông bà, xin hỗ trợ thực phẩm",
        "Quên chìa khóa, bị khóa ngoài nhà, nhờ gọi thợ",
        "Con tôi bị khóa tài khoản, không đăng ký được",
        "Bé ở nhà một mình lúc nãy, bố mẹ đi cách ly về rồi, bé vẫn khỏe",
        "Khóa nhi bệnh viện ở đâu, con tôi cần khám",
    ],
)
def test_ordinary_messages_about_children_at_home_are_not(text: str) -> None:
    assert welfare(text) is None
