"""The case state machine (docs/domain.md, "A case's life"), as one table.

Each action lists the statuses it may start from and the status it leads to. Actions that
involve several units (forward, accept, return, resolve by a unit) land on the status the
table names, and the service then settles the case's status from its open forwardings.
"""

from __future__ import annotations

import enum

from hotline.cases.models import CaseStatus as S
from hotline.errors import InvalidTransition
from hotline.messages import msg


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
    S.NEW: msg("Mới"),
    S.IN_PROGRESS: msg("Đang xử lý"),
    S.FORWARDED: msg("Đã chuyển đơn vị"),
    S.ACCEPTED: msg("Đơn vị đã tiếp nhận"),
    S.RESOLVED: msg("Đã giải quyết"),
    S.CLOSED: msg("Đã đóng"),
    S.REJECTED: msg("Từ chối"),
    S.DUPLICATE: msg("Trùng lặp"),
}

ACTION_LABELS_VI: dict[Action, str] = {
    Action.TAKE: msg("nhận xử lý"),
    Action.FORWARD: msg("chuyển đơn vị"),
    Action.ACCEPT: msg("tiếp nhận"),
    Action.RETURN: msg("trả lại"),
    Action.RESOLVE: msg("giải quyết"),
    Action.CLOSE: msg("đóng"),
    Action.REJECT: msg("từ chối"),
    Action.DUPLICATE: msg("đánh dấu trùng"),
    Action.REOPEN: msg("mở lại"),
}

OPEN_STATUSES = frozenset({S.NEW, S.IN_PROGRESS, S.FORWARDED, S.ACCEPTED})


def target(action: Action, current: S) -> S:
    """The status an action leads to from `current`, or InvalidTransition."""
    to = TRANSITIONS[action].get(current)
    if to is None:
        raise InvalidTransition(
            msg(
                "Không thể {action} yêu cầu đang ở trạng thái “{current}”",
                action=ACTION_LABELS_VI[action],
                current=STATUS_LABELS_VI[current],
            ),
            field="status",
            code=f"invalid_transition.{action.value}.{current.value}",
        )
    return to


CHANNEL_LABELS_VI: dict[str, str] = {
    "phone": msg("Điện thoại"),
    "zalo": msg("Zalo"),
    "facebook": msg("Facebook"),
    "viber": msg("Viber"),
    "email": msg("Thư điện tử"),
    "sms": msg("Tin nhắn SMS"),
    "app": msg("Ứng dụng"),
    "web": msg("Cổng thông tin"),
    "walk_in": msg("Trực tiếp"),
    "care": msg("Theo dõi tại nhà (hệ thống)"),
}
