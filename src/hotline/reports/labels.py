"""The names the report page and its exports give to the summary's codes (Vietnamese
messages: a page or a download in English translates them through reports/locale/en.po)."""

from __future__ import annotations

from hotline.messages import Message, msg

SECTIONS: dict[str, Message] = {
    "period": msg("Kỳ báo cáo"),
    "requests": msg("Yêu cầu theo nhóm"),
    "handling": msg("Xử lý"),
    "requests.by_category": msg("Theo lĩnh vực"),
    "requests.by_channel": msg("Theo kênh"),
    "calls": msg("Cuộc gọi"),
    "calls.by_line": msg("Cuộc gọi theo đầu số"),
    "calls.by_branch": msg("Cuộc gọi theo nhánh"),
    "calls.by_outcome": msg("Kết quả cuộc gọi"),
    "by_day.requests": msg("Yêu cầu theo ngày"),
    "by_day.calls": msg("Cuộc gọi theo ngày"),
    "by_hour.requests": msg("Yêu cầu theo giờ"),
    "units": msg("Đơn vị"),
    "calls.by_operator": msg("Điện thoại viên"),
}
FIGURES: dict[str, Message] = {
    "from": msg("Từ ngày"),
    "to": msg("Đến ngày"),
    "requests.total": msg("Tổng số yêu cầu"),
    "requests.urgent": msg("Khẩn cấp"),
    "handling.handled_directly": msg("Xử lý trực tiếp"),
    "handling.forwarded": msg("Chuyển đơn vị"),
    "calls.total": msg("Tổng số cuộc gọi"),
    "calls.abandonment_rate": msg("Tỷ lệ bỏ máy khi chờ"),
    "calls.service_level_20s": msg("Trả lời trong 20 giây"),
    "calls.average_speed_of_answer_seconds": msg("Thời gian chờ trung bình (giây)"),
    "units.received": msg("Tiếp nhận"),
    "units.resolved": msg("Đã giải quyết"),
    "units.overdue": msg("Quá hạn"),
    "operator.answered": msg("Đã trả lời"),
    "operator.talk_seconds": msg("Tổng thời gian đàm thoại (giây)"),
    "operator.average_handle_seconds": msg("Thời gian đàm thoại TB (giây)"),
}
GROUPS: dict[str, Message] = {
    "hardship": msg("Hỗ trợ khó khăn"),
    "emergency": msg("Cấp cứu"),
    "other": msg("Khác"),
}
UNCATEGORISED = msg("Chưa phân loại")
# The menu's branches: the operators' and the doctors' queues, and the two destinations a
# caller is put through to (the phone configuration names these by code only).
BRANCHES: dict[str, Message] = {
    "operator": msg("Nhánh tổng đài viên"),
    "doctor": msg("Nhánh tư vấn bác sĩ"),
    "violations": msg("Nhánh phản ánh vi phạm"),
    "cdc": msg("Nhánh Trung tâm Kiểm soát bệnh tật (CDC)"),
    "115": msg("Nhánh cấp cứu 115"),
    "none": msg("Không vào nhánh nào"),
}
OUTCOMES: dict[str, Message] = {
    "answered": msg("Đã trả lời"),
    "abandoned_menu": msg("Bỏ máy ở lời chào"),
    "abandoned_queue": msg("Bỏ máy khi chờ"),
    "transferred_115": msg("Chuyển 115"),
    "transferred_cdc": msg("Chuyển CDC"),
    "callback_requested": msg("Xin gọi lại"),
    "outside_hours": msg("Ngoài giờ"),
    "line_restarted": msg("Tổng đài khởi động lại"),
    "voicemail": msg("Để lại lời nhắn"),
    "transfer_failed": msg("Chuyển máy không thành công"),
    "dropped": msg("Tổng đài ngắt cuộc gọi"),
    "failed": msg("Không kết nối được"),
    "no_answer": msg("Không nghe máy"),
    "busy": msg("Máy bận"),
}


def line(number: str) -> Message:
    return msg("Đầu số {number}", number=number)


def branch(code: str) -> Message:
    return BRANCHES.get(code) or msg("Nhánh {name}", name=code)


def outcome(code: str) -> Message:
    return OUTCOMES.get(code) or msg("Kết quả {code}", code=code)


def day(iso: str, lang: str = "vi") -> str:
    """A date as the pages show it: dd/mm/yyyy in Vietnamese, as the ISO code in English."""
    if lang == "en":
        return iso
    return f"{iso[8:10]}/{iso[5:7]}/{iso[0:4]}"
