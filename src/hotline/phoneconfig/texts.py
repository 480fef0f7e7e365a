"""The line's built-in wording: branch names, the menu's prompts, the callback offer. The
built-in configuration (defaults.py) seeds its prompts from these; the line falls back on them."""

from __future__ import annotations

BRANCH_NAMES = {
    "doctor": "Tư vấn bác sĩ",
    "operator": "Tổng đài viên",
    "violations": "Phản ánh vi phạm",
}

DEFAULT_TEXTS = {
    "greeting": (
        "Tổng đài 1022 thành phố Hà Nội xin nghe. "
        "Cấp cứu, bấm phím 1. Trung tâm kiểm soát bệnh tật, bấm phím 2. "
        "Tư vấn với bác sĩ, bấm phím 3. Phản ánh vi phạm phòng chống dịch, bấm phím 4."
    ),
    "invalid": "Xin lỗi, phím bạn bấm không hợp lệ.",
    "transferring": "Cuộc gọi đang được chuyển, xin vui lòng giữ máy.",
    "queue": "Tất cả điện thoại viên đang bận. Xin vui lòng giữ máy, chúng tôi sẽ trả lời ngay.",
}

CALLBACK_TEXTS = {
    "callback_offer": "Nhấn phím 1 để giữ chỗ và được gọi lại.",
    "callback_ok": "Cảm ơn bạn. Chúng tôi sẽ gọi lại cho bạn sớm nhất.",
}

# Surge mode (staffing/surge.py): `surge_menu` before a menu's greeting (a menu's
# `surge_prompt`); `surge_queue` instead of `queue` on joining a queue whose callback
# surge mode brings sooner.
SURGE_TEXTS = {
    "surge_menu": (
        "Tổng đài đang nhận rất nhiều cuộc gọi. Câu hỏi thường gặp và cách xử lý "
        "có trên trang thông tin của Sở Y tế."
    ),
    "surge_queue": (
        "Tất cả điện thoại viên đang bận vì có rất nhiều người gọi. "
        "Sau ít giây, bạn sẽ được mời bấm phím 1 để giữ chỗ và được gọi lại."
    ),
}

VOICEMAIL_TEXTS = {
    "voicemail": (
        "Hiện chưa có điện thoại viên nhận cuộc gọi. Xin để lại lời nhắn sau tiếng bíp, "
        "rồi gác máy. Chúng tôi sẽ xử lý và liên hệ lại."
    ),
}
