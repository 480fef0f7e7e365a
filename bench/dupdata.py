"""Labelled synthetic reports for the duplicates benchmark: events reported many times.

An event is one happening at one place (a gathering in "ngõ 45 Kim Mã", a fire at a
warehouse, a burst pipe, ...). Each report of it is a fresh paraphrase the way callers and
chat users write: different wording, with or without diacritics, chat shorthand, a typo.
Different events of the same kind in the same ward share most of their vocabulary, which is
the hard case for precision.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field

# kind -> (category, subjects with {x}, fillers for {x}, extras)
KINDS: dict[str, tuple[str, list[str], list[str], list[str]]] = {
    "gathering": (
        "phan_anh_vi_pham",
        [
            "Có khoảng 30 người tụ tập {x}",
            "Nhiều người tụ tập {x}",
            "Đám đông tụ tập {x}",
            "Nhóm thanh niên tụ tập {x}",
            "Thấy người ta tụ tập {x}",
        ],
        ["đánh bài", "nhậu nhẹt", "đá bóng", "hát karaoke"],
        [
            "không đeo khẩu trang",
            "đề nghị phường xử lý",
            "từ chiều đến giờ",
            "không giữ khoảng cách",
            "rất ồn ào",
        ],
    ),
    "fire": (
        "an_ninh_trat_tu",
        ["Cháy {x}", "{x} đang bốc cháy", "Có đám cháy ở {x}", "Khói đen bốc lên từ {x}"],
        ["kho hàng", "xưởng gỗ", "quán ăn", "bãi rác", "cửa hàng điện máy"],
        ["khói rất nhiều", "cần cứu hỏa gấp", "người dân đang dập lửa", "lửa lan sang nhà bên"],
    ),
    "flood": (
        "khac",
        ["Nước ngập {x}", "Ngập sâu {x}", "Đường bị ngập {x}", "Mưa to ngập {x}"],
        ["ngang đầu gối", "vào tận nhà", "xe máy chết máy", "cả tuyến phố"],
        ["cống bị tắc", "không ai đến hút nước", "trẻ con không đi học được", "đã ba tiếng"],
    ),
    "power": (
        "khac",
        ["Mất điện {x}", "Cả khu mất điện {x}", "Bị cắt điện {x}", "Không có điện {x}"],
        ["từ sáng", "từ tối qua", "đã năm tiếng", "không báo trước"],
        [
            "người già bị nóng",
            "tủ lạnh hỏng hết thực phẩm",
            "gọi điện lực không được",
            "bệnh nhân thở máy cần điện",
        ],
    ),
    "water": (
        "khac",
        [
            "Vỡ ống nước {x}",
            "Mất nước sinh hoạt {x}",
            "Nước chảy lênh láng {x}",
            "Ống nước bị vỡ {x}",
        ],
        ["từ đêm qua", "hai ngày nay", "chảy tràn ra đường", "nước bẩn có mùi"],
        ["đề nghị công ty nước xử lý", "không có nước nấu ăn", "gây trơn trượt", "lãng phí"],
    ),
    "quarantine": (
        "phan_anh_vi_pham",
        [
            "Người đang cách ly {x}",
            "F1 cách ly tại nhà {x}",
            "Nhà đang cách ly {x}",
            "Có người cách ly {x}",
        ],
        ["vẫn ra ngoài đi chợ", "trốn ra quán nước", "tiếp khách vào nhà", "đi làm bình thường"],
        ["sợ lây cho cả xóm", "đề nghị kiểm tra", "nhắc mãi không nghe", "không đeo khẩu trang"],
    ),
    "price": (
        "phan_anh_vi_pham",
        [
            "Cửa hàng {x} bán giá cắt cổ",
            "Quán tạp hóa {x} tăng giá",
            "Tiệm {x} bán đắt gấp ba",
            "Bán hàng thiết yếu giá cao {x}",
        ],
        ["rau củ", "khẩu trang", "que test nhanh", "gạo và mì tôm"],
        [
            "người dân bức xúc",
            "đề nghị quản lý thị trường kiểm tra",
            "không niêm yết giá",
            "lợi dụng dịch bệnh",
        ],
    ),
    "fight": (
        "an_ninh_trat_tu",
        ["Đánh nhau {x}", "Có vụ ẩu đả {x}", "Hai nhóm đánh nhau {x}", "Xô xát lớn {x}"],
        ["có cầm gậy", "có người bị thương", "đông người xem", "cầm dao"],
        ["cần công an đến gấp", "rất nguy hiểm", "đang diễn ra", "gọi 113 không được"],
    ),
    "tree": (
        "khac",
        ["Cây đổ {x}", "Cây to bị gãy {x}", "Cành cây gãy đè {x}", "Cây xanh bật gốc {x}"],
        ["chắn ngang đường", "đè lên dây điện", "đè vào xe máy", "sau trận mưa"],
        ["cần cắt dọn gấp", "xe không đi được", "nguy hiểm cho người qua lại", "chưa ai xử lý"],
    ),
    "food": (
        "ho_tro_kho_khan",
        [
            "Khu trọ công nhân {x} hết gạo",
            "Công nhân ở {x} không còn gì ăn",
            "Các phòng trọ {x} cần hỗ trợ lương thực",
            "Người lao động {x} thiếu đồ ăn",
        ],
        ["bị phong tỏa", "mất việc", "không ra ngoài được", "hết tiền"],
        ["có cả trẻ nhỏ", "xin phường hỗ trợ gạo mì", "đã hai ngày", "khoảng hai mươi phòng"],
    ),
}
PLACE_KINDS = ["ngõ", "hẻm", "số nhà", "chung cư", "khu trọ", "chợ"]
STREETS = [
    "Kim Mã",
    "Đội Cấn",
    "Liễu Giai",
    "Văn Cao",
    "Hoàng Hoa Thám",
    "Nguyễn Trãi",
    "Lê Lợi",
    "Trần Phú",
    "Hai Bà Trưng",
    "Lạc Long Quân",
    "Âu Cơ",
    "Cầu Giấy",
    "Xuân Thủy",
    "Phạm Văn Đồng",
    "Giải Phóng",
    "Minh Khai",
    "Bạch Mai",
    "Tôn Đức Thắng",
    "Thái Hà",
    "Láng Hạ",
    "Nguyễn Chí Thanh",
    "Đại Lộ Bình Dương",
    "Phú Lợi",
    "Thích Quảng Đức",
    "Yersin",
    "Ngô Gia Tự",
    "Cách Mạng Tháng Tám",
    "Nguyễn Văn Tiết",
    "Huỳnh Văn Lũy",
]
PREPOSITIONS = ["ở", "tại", "gần", "đầu", "trước"]
SHORTHAND = {"không": "ko", "người": "ng", "được": "dc", "với": "vs", "gì": "j", "rồi": "r"}


def fold(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


@dataclass
class Event:
    key: str
    kind: str
    category: str
    filler: str
    place: str
    ward_code: str
    codes: list[str] = field(default_factory=list)


def new_event(rng: random.Random, ward_code: str, taken: set[str]) -> Event:
    while True:
        kind = rng.choice(list(KINDS))
        filler = rng.choice(KINDS[kind][2])
        place = f"{rng.choice(PLACE_KINDS)} {rng.randint(2, 199)} {rng.choice(STREETS)}"
        key = f"{kind}|{filler}|{place}|{ward_code}"
        if key not in taken:
            taken.add(key)
            return Event(key, kind, KINDS[kind][0], filler, place, ward_code)


def report(rng: random.Random, event: Event) -> str:
    """One caller's words for the event."""
    _cat, subjects, _fillers, extras = KINDS[event.kind]
    text = rng.choice(subjects).format(x=event.filler)
    text = f"{text} {rng.choice(PREPOSITIONS)} {event.place}, {rng.choice(extras)}"
    if rng.random() < 0.3:
        text = fold(text).lower()
    if rng.random() < 0.2:
        text = " ".join(SHORTHAND.get(w, w) for w in text.split(" "))
    if rng.random() < 0.25:
        words = text.split(" ")
        i = rng.randrange(len(words))
        if len(words[i]) > 3:
            j = rng.randrange(1, len(words[i]) - 1)
            words[i] = words[i][:j] + words[i][j + 1 :]  # a dropped letter
        text = " ".join(words)
    return text
