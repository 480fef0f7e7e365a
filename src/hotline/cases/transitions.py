"""The case state machine (docs/domain.md, "A case's life"), as one table.

Each action lists the statuses it may start from and the status it leads to. Actions that
involve several units (forward, accept, return, resolve by a unit) land on the status the
table names, and the service then settles the case's status from its open forwardings.
"""

from __future__ import annotations

import enum

from hotline.cases.models import CaseStatus as S
from hotline.errors import InvalidTransition


class Action(enum.StrEnum):
    TAKE = "take"
    FORWARD = "forward"
    ACCEPT = "accept"
    RETURN = "return"
    RESOLVE = "resolve"
    CLOSE = "close"
    REJECT = "reject"
    DUPLICATE = "duplicate"
    REOPEN = "reopen"


TRANSITIONS: dict[Action, dict[S, S]] = {
    Action.TAKE: {S.NEW: S.IN_PROGRESS, S.IN_PROGRESS: S.IN_PROGRESS},
    Action.FORWARD: {
        S.NEW: S.FORWARDED,
        S.IN_PROGRESS: S.FORWARDED,
        S.FORWARDED: S.FORWARDED,
        S.ACCEPTED: S.ACCEPTED,
    },
    Action.ACCEPT: {S.FORWARDED: S.ACCEPTED, S.ACCEPTED: S.ACCEPTED},
    Action.RETURN: {S.FORWARDED: S.IN_PROGRESS, S.ACCEPTED: S.IN_PROGRESS},
    Action.RESOLVE: {
        S.NEW: S.RESOLVED,
        S.IN_PROGRESS: S.RESOLVED,
        S.FORWARDED: S.RESOLVED,
        S.ACCEPTED: S.RESOLVED,
    },
    Action.CLOSE: {S.RESOLVED: S.CLOSED},
    Action.REJECT: {S.NEW: S.REJECTED, S.IN_PROGRESS: S.REJECTED},
    Action.DUPLICATE: {S.NEW: S.DUPLICATE, S.IN_PROGRESS: S.DUPLICATE},
    Action.REOPEN: {
        S.RESOLVED: S.IN_PROGRESS,
        S.CLOSED: S.IN_PROGRESS,
        S.REJECTED: S.IN_PROGRESS,
        S.DUPLICATE: S.IN_PROGRESS,
    },
}

STATUS_LABELS_VI: dict[S, str] = {
    S.NEW: "Mới",
    S.IN_PROGRESS: "Đang xử lý",
    S.FORWARDED: "Đã chuyển đơn vị",
    S.ACCEPTED: "Đơn vị đã tiếp nhận",
    S.RESOLVED: "Đã giải quyết",
    S.CLOSED: "Đã đóng",
    S.REJECTED: "Từ chối",
    S.DUPLICATE: "Trùng lặp",
}

ACTION_LABELS_VI: dict[Action, str] = {
    Action.TAKE: "nhận xử lý",
    Action.FORWARD: "chuyển đơn vị",
    Action.ACCEPT: "tiếp nhận",
    Action.RETURN: "trả lại",
    Action.RESOLVE: "giải quyết",
    Action.CLOSE: "đóng",
    Action.REJECT: "từ chối",
    Action.DUPLICATE: "đánh dấu trùng",
    Action.REOPEN: "mở lại",
}

OPEN_STATUSES = frozenset({S.NEW, S.IN_PROGRESS, S.FORWARDED, S.ACCEPTED})


def target(action: Action, current: S) -> S:
    """The status an action leads to from `current`, or InvalidTransition."""
    to = TRANSITIONS[action].get(current)
    if to is None:
        raise InvalidTransition(
            f"Không thể {ACTION_LABELS_VI[action]} yêu cầu đang ở trạng thái "
            f"“{STATUS_LABELS_VI[current]}”",
            field="status",
            code=f"invalid_transition.{action.value}.{current.value}",
        )
    return to


CHANNEL_LABELS_VI: dict[str, str] = {
    "phone": "Điện thoại",
    "zalo": "Zalo",
    "facebook": "Facebook",
    "viber": "Viber",
    "email": "Thư điện tử",
    "sms": "Tin nhắn SMS",
    "app": "Ứng dụng",
    "web": "Cổng thông tin",
    "walk_in": "Trực tiếp",
}
