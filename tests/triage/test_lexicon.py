"""The urgent lexicon: each rule fires on diacritic and plain forms, and negation turns it off."""

from __future__ import annotations

import pytest

from hotline.triage.corpus import split_corpus
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
    texts = [e.text for e in (*train, *held_out)]
    texts += ["không khó thở, spo2 98", "khó thở; ko sốt", "ba e kho tho, spo2 91", ""]
    assert [is_urgent(t) for t in texts] == [bool(scan(t)) for t in texts]
    assert any(is_urgent(t) for t in texts) and not all(is_urgent(t) for t in texts)
