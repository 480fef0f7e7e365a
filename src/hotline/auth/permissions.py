"""Who may do what: every permission named once, with the roles that hold it.

Services check with `require(actor, Permission.X)` (raises NotAllowed) or `allows(...)` (for
what an actor sees, e.g. every case or only their unit's); routes, pages, the CLI and the
channels call those services and hold no role logic of their own. Seeing an object at all
(a unit's cases, an article's drafts) is decided in each domain's access.py from these
permissions, and answers NotFound rather than NotAllowed.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from hotline.auth.models import HOTLINE_STAFF, Role
from hotline.errors import NotAllowed
from hotline.messages import msg

if TYPE_CHECKING:
    from hotline.auth.service import Actor


class Permission(enum.StrEnum):
    # Cases and citizens
    SEE_ALL_CASES = "see_all_cases"  # else: the cases forwarded to one's unit
    HANDLE_CASES = "handle_cases"  # open, edit, take, forward, close, reject, reopen, ...
    REPLY_TO_CITIZENS = "reply_to_citizens"  # a reply the reporter reads on the portal
    READ_CONTACTS = "read_contacts"  # citizens' cards, lookups by phone, contact merges
    RECORD_CALLS = "record_calls"  # call records and callbacks
    # Writing call records through the API (the phone line writes its own): they feed the
    # reports, the staffing forecast and surge mode, so an operator cannot make them up.
    WRITE_CALLS = "write_calls"
    USE_SUGGESTIONS = "use_suggestions"  # triage, likely duplicates, answers, the form's assist
    MERGE_DUPLICATES = "merge_duplicates"  # duplicate clusters and merging cases
    AUDIT_PERSONAL_DATA = "audit_personal_data"  # who read a citizen's personal data
    # Knowledge and reports
    EDIT_KNOWLEDGE = "edit_knowledge"  # write, publish, archive articles; read drafts
    READ_REPORTS = "read_reports"
    # The floor and the phone line
    SUPERVISE_AGENTS = "supervise_agents"  # call takers' live status
    LISTEN_RECORDINGS = "listen_recordings"
    CONFIGURE_PHONE = "configure_phone"  # the phone line's settings, agents' SIP logins
    # Staffing
    SEE_ROSTER = "see_roster"  # one's own shifts, swap requests, clock in and out
    MANAGE_STAFFING = "manage_staffing"  # rosters, swaps, volunteers, forecast, surge switch
    # Administration
    VIEW_USERS = "view_users"
    MANAGE_USERS = "manage_users"  # create, disable, set passwords, revoke sessions
    MANAGE_DIRECTORY = "manage_directory"  # categories and units (inactive ones included)
    MANAGE_CHANNELS = "manage_channels"  # connected messaging accounts and their secrets
    VIEW_TRIAGE_MODELS = "view_triage_models"
    MANAGE_TRIAGE_MODELS = "manage_triage_models"  # train, choose the active version
    # Home care (care/access.py): health data is the care roles' only.
    FOLLOW_PATIENTS = "follow_patients"  # register, check in, worklist; doctors: their own
    SEE_ALL_PATIENTS = "see_all_patients"  # every followed patient, alerts of all doctors
    MANAGE_DOCTORS = "manage_doctors"  # doctors' profiles, groups, windows, capacity
    MANAGE_FACILITIES = "manage_facilities"  # the registry of facilities (beds: their unit)


_LEADS = frozenset({Role.ADMIN, Role.SUPERVISOR})
_ADMINS = frozenset({Role.ADMIN})
_CARE = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.DOCTOR})

# The one table of who holds what. Unit officers and doctors hold none of these: they act
# on the cases forwarded to their unit (cases/access.py, cases/workflow.py).
ROLES: dict[Permission, frozenset[Role]] = {
    Permission.SEE_ALL_CASES: HOTLINE_STAFF,
    Permission.HANDLE_CASES: HOTLINE_STAFF,
    # The hotline speaks to the citizen; a unit's word to them is its resolve answer.
    Permission.REPLY_TO_CITIZENS: HOTLINE_STAFF,
    Permission.READ_CONTACTS: HOTLINE_STAFF,
    Permission.RECORD_CALLS: HOTLINE_STAFF,
    # And a PBX's service account (auth/service_accounts.py), which holds nothing else.
    Permission.WRITE_CALLS: _LEADS | {Role.SERVICE},
    Permission.USE_SUGGESTIONS: HOTLINE_STAFF,
    Permission.MERGE_DUPLICATES: _LEADS,
    Permission.AUDIT_PERSONAL_DATA: _LEADS,
    Permission.EDIT_KNOWLEDGE: _LEADS,
    Permission.READ_REPORTS: HOTLINE_STAFF,
    Permission.SUPERVISE_AGENTS: _LEADS,
    Permission.LISTEN_RECORDINGS: _LEADS,
    Permission.CONFIGURE_PHONE: _ADMINS,
    Permission.SEE_ROSTER: HOTLINE_STAFF,
    Permission.MANAGE_STAFFING: _LEADS,
    Permission.VIEW_USERS: _LEADS,
    Permission.MANAGE_USERS: _ADMINS,
    Permission.MANAGE_DIRECTORY: _ADMINS,
    Permission.MANAGE_CHANNELS: _ADMINS,
    Permission.VIEW_TRIAGE_MODELS: _LEADS,
    Permission.MANAGE_TRIAGE_MODELS: _ADMINS,
    Permission.FOLLOW_PATIENTS: _CARE,
    Permission.SEE_ALL_PATIENTS: _LEADS,
    Permission.MANAGE_DOCTORS: _LEADS,
    Permission.MANAGE_FACILITIES: _ADMINS,
}

# What a refused actor is told, unless the service names the action more precisely.
REFUSALS: dict[Permission, str] = {
    Permission.SEE_ALL_CASES: msg("Chỉ nhân viên tổng đài xem được mọi yêu cầu"),
    Permission.HANDLE_CASES: msg("Chỉ tổng đài viên được xử lý yêu cầu"),
    Permission.REPLY_TO_CITIZENS: msg(
        "Chỉ tổng đài trả lời người dân; đơn vị trả lời bằng thao tác Giải quyết"
    ),
    Permission.READ_CONTACTS: msg("Chỉ tổng đài viên được xem thông tin người dân"),
    Permission.RECORD_CALLS: msg("Chỉ tổng đài viên được xem cuộc gọi"),
    Permission.WRITE_CALLS: msg(
        "Chỉ trưởng ca và quản trị viên được ghi hoặc sửa bản ghi cuộc gọi; cuộc gọi do "
        "tổng đài tự ghi"
    ),
    Permission.USE_SUGGESTIONS: msg("Chỉ nhân viên tổng đài dùng được gợi ý"),
    Permission.MERGE_DUPLICATES: msg("Chỉ trưởng ca hoặc quản trị viên được gộp yêu cầu trùng"),
    Permission.AUDIT_PERSONAL_DATA: msg("Chỉ quản trị viên hoặc trưởng ca xem nhật ký truy cập"),
    Permission.EDIT_KNOWLEDGE: msg(
        "Chỉ trưởng ca và quản trị viên được soạn, xuất bản bài hỏi đáp"
    ),
    Permission.READ_REPORTS: msg("Báo cáo dành cho lãnh đạo, trưởng ca và tổng đài"),
    Permission.SUPERVISE_AGENTS: msg("Chỉ giám sát viên xem được trạng thái điện thoại viên"),
    Permission.LISTEN_RECORDINGS: msg("Chỉ trưởng ca và quản trị viên nghe được ghi âm"),
    Permission.CONFIGURE_PHONE: msg("Chỉ quản trị viên được cấu hình tổng đài"),
    Permission.SEE_ROSTER: msg("Chỉ nhân viên tổng đài xem được lịch trực"),
    Permission.MANAGE_STAFFING: msg(
        "Chỉ trưởng ca và quản trị viên được xếp lịch trực, duyệt tình nguyện viên và đổi ca"
    ),
    Permission.VIEW_USERS: msg("Chỉ quản trị viên hoặc trưởng ca xem được danh sách tài khoản"),
    Permission.MANAGE_USERS: msg("Chỉ quản trị viên được quản lý tài khoản"),
    Permission.MANAGE_DIRECTORY: msg("Chỉ quản trị viên được sửa lĩnh vực và đơn vị"),
    Permission.MANAGE_CHANNELS: msg("Chỉ quản trị viên được cấu hình kênh nhắn tin"),
    Permission.VIEW_TRIAGE_MODELS: msg("Chỉ quản trị viên và trưởng ca xem được các mô hình"),
    Permission.MANAGE_TRIAGE_MODELS: (
        msg("Chỉ quản trị viên được huấn luyện hoặc chọn mô hình phân loại")
    ),
    Permission.FOLLOW_PATIENTS: msg("Chỉ bác sĩ, trưởng ca và quản trị viên xem được người bệnh"),
    Permission.SEE_ALL_PATIENTS: msg("Chỉ trưởng ca và quản trị viên xem được mọi người bệnh"),
    Permission.MANAGE_DOCTORS: msg("Chỉ trưởng ca và quản trị viên được sửa hồ sơ bác sĩ"),
    Permission.MANAGE_FACILITIES: msg("Chỉ quản trị viên được thêm cơ sở điều trị"),
}


def role_allows(role: Role, permission: Permission) -> bool:
    """Whether a role holds a permission (for a user other than the actor, e.g. the call
    taker named on a call record)."""
    return role in ROLES[permission]


def allows(actor: Actor, permission: Permission) -> bool:
    """Whether the actor holds the permission."""
    return actor.role in ROLES[permission]


def require(actor: Actor, permission: Permission, detail: str | None = None) -> None:
    """Raise NotAllowed (403) unless the actor holds the permission; `detail` names the
    refused action when the service knows it better than the permission's own message."""
    if actor.role not in ROLES[permission]:
        raise NotAllowed(detail or REFUSALS[permission])
