"""Domain errors. No HTTP here: web/errors.py maps them to problem+json and pages."""

from __future__ import annotations

from typing import Any

from hotline.messages import Message, msg


class DomainError(Exception):
    status = 400
    title = msg("Yêu cầu không hợp lệ")

    def __init__(
        self,
        detail: str,
        *,
        field: str | None = None,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        # A plain string is a message without values; pages translate either kind.
        self.detail = detail if isinstance(detail, Message) else Message(detail)
        super().__init__(self.detail)
        self.field = field
        self.code = code or type(self).__name__
        # Further members of the API's problem answer (e.g. the record a conflict is with).
        self.extra = dict(extra or {})


class NotFound(DomainError):
    status = 404
    title = msg("Không tìm thấy")


class NotAllowed(DomainError):
    """The actor is known but may not do this (e.g. wrong role)."""

    status = 403
    title = msg("Không được phép")


class Unauthenticated(DomainError):
    status = 401
    title = msg("Chưa đăng nhập")


class InvalidInput(DomainError):
    status = 422
    title = msg("Dữ liệu không hợp lệ")


class InvalidTransition(DomainError):
    status = 409
    title = msg("Không thể chuyển trạng thái")


class Conflict(DomainError):
    status = 409
    title = msg("Xung đột dữ liệu")


class TooLarge(DomainError):
    status = 413
    title = msg("Tệp quá lớn")


class UnsupportedMedia(DomainError):
    status = 415
    title = msg("Loại tệp không được hỗ trợ")
