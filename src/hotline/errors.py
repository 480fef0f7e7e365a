"""Domain errors. No HTTP here: web/errors.py maps them to problem+json and pages."""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    title = "Yêu cầu không hợp lệ"

    def __init__(self, detail: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.code = code or type(self).__name__


class NotFound(DomainError):
    status = 404
    title = "Không tìm thấy"


class NotAllowed(DomainError):
    """The actor is known but may not do this (e.g. wrong role)."""

    status = 403
    title = "Không được phép"


class Unauthenticated(DomainError):
    status = 401
    title = "Chưa đăng nhập"


class InvalidInput(DomainError):
    status = 422
    title = "Dữ liệu không hợp lệ"


class InvalidTransition(DomainError):
    status = 409
    title = "Không thể chuyển trạng thái"


class Conflict(DomainError):
    status = 409
    title = "Xung đột dữ liệu"


class TooLarge(DomainError):
    status = 413
    title = "Tệp quá lớn"


class UnsupportedMedia(DomainError):
    status = 415
    title = "Loại tệp không được hỗ trợ"
