"""What the pages call who ended a call and why (calls/models.py: ENDED_BY, RELEASE_CAUSES);
English through calls/locale/en.po."""

from __future__ import annotations

from hotline.messages import Message, msg

ENDED_BY: dict[str, Message] = {
    "caller": msg("Người gọi kết thúc"),
    "line": msg("Tổng đài kết thúc"),
    "operator": msg("Điện thoại viên kết thúc"),
    "destination": msg("Nơi nhận chuyển tiếp kết thúc"),
}
RELEASE_CAUSES: dict[str, Message] = {
    "caller_hangup": msg("người gọi gác máy"),
    "caller_cancel": msg("người gọi hủy trước khi được trả lời"),
    "line_hangup": msg("tổng đài gác máy"),
    "transferred": msg("đã chuyển tiếp"),
    "operator_hangup": msg("điện thoại viên gác máy"),
    "destination_hangup": msg("nơi nhận chuyển tiếp gác máy"),
    "rtp_timeout": msg("mất tín hiệu thoại"),
    "max_duration": msg("quá thời lượng tối đa"),
    "session_expired": msg("phiên gọi hết hạn"),
    "no_ack": msg("máy gọi không xác nhận"),
    "line_stopped": msg("tổng đài dừng"),
    "line_error": msg("lỗi tổng đài"),
    "over_capacity": msg("tổng đài quá tải"),
    "no_media_port": msg("hết cổng thoại"),
    "codec_not_acceptable": msg("không có mã hóa thoại chung"),
    "no_answer": msg("không nghe máy"),
    "busy": msg("máy bận"),
    "unreachable": msg("không gọi được"),
}


def ended_by(code: str | None) -> Message | str:
    return ENDED_BY.get(code or "", code or "")


def cause(code: str | None) -> Message | str:
    return RELEASE_CAUSES.get(code or "", code or "")
