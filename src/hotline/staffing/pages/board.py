"""The staffing page (`/staffing`): for shift leads and administrators the day's half-hour
forecast against the roster (×1/×2/×3), surge mode with its switch and history, unfilled
shift alerts and notices, volunteers to approve, the week's roster and swaps to decide; for
call takers their own week, swaps and notices. Everyone on it clocks in and out here (the
console's phone panel posts to the same route).

Thin: what is shown comes from staffing/views.py and each form calls the service the API
calls, which checks the permission; a refusal is the shared refusal page (403), a mistake
shows the page again with the message next to its field."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Actor, get_user
from hotline.db import utcnow
from hotline.errors import DomainError, InvalidInput, NotAllowed
from hotline.messages import msg
from hotline.staffing import planning, service, surge, views, volunteers
from hotline.staffing.checks import working_day
from hotline.staffing.offer_views import withdrawal_notice
from hotline.types import Id
from hotline.web.deps import get_state
from hotline.web.inputs import FormRefusals, without_nul
from hotline.web.page import csrf_matches, csrf_token, nav_for, page_actor, templates_for
from hotline.web.state import AppState

templates = templates_for(__file__)
router = APIRouter(include_in_schema=False)
StateDep = Annotated[AppState, Depends(get_state)]
FormText = Annotated[str, Form()]

EXPIRED = msg("Phiên làm việc đã hết hạn, vui lòng bấm gửi lại.")
BAD_DATE = msg("Ngày không hợp lệ; nhập theo dạng năm-tháng-ngày, ví dụ 2026-12-05")
FAR_DATE = msg("Chọn một ngày trong vòng một năm quanh hôm nay")
NOT_A_NUMBER = msg("Cần nhập một số")
DAYS_AROUND = 366
# What a form did, said at the top of the page after its redirect.
DONE = {
    "surge_on": msg("Đã bật chế độ quá tải."),
    "surge_off": msg("Đã tắt chế độ quá tải."),
    "surge_same": msg("Chế độ quá tải đã ở trạng thái này."),
    "volunteer_approve": msg("Đã duyệt tình nguyện viên."),
    "volunteer_reject": msg("Đã từ chối đăng ký tình nguyện."),
    "volunteer_relink": msg("Đã gắn tình nguyện viên với tài khoản đã chọn."),
    "volunteer_unlink": msg("Đã bỏ liên kết tài khoản của tình nguyện viên."),
    "swap_approve": msg("Đã duyệt đổi ca."),
    "swap_reject": msg("Đã từ chối đổi ca."),
    "swap_withdraw": msg("Đã rút yêu cầu đổi ca."),
    "swap_request": msg("Đã gửi yêu cầu đổi ca; chờ đồng nghiệp nhận rồi trưởng ca duyệt."),
    "swap_accept": msg("Đã nhận ca; chờ trưởng ca duyệt."),
    "swap_decline": msg("Đã từ chối nhận ca."),
    "clock_in": msg("Đã vào ca."),
    "clock_out": msg("Đã hết ca."),
    "roster_assign": msg("Đã xếp người vào ca."),
    "roster_remove": msg("Đã rút người khỏi ca."),
    "roster_copy": msg("Đã chép lịch trực sang tuần sau."),
    "attendance_leave": msg("Đã cho phép làm ngoài ca."),
    "attendance_end": msg("Đã kết thúc cho phép làm ngoài ca."),
    "attendance_out": msg("Đã cho người này hết ca."),
    "shifts_save": msg("Đã lưu ca trực."),
}
# The counts of a copied week, carried in the address of the page shown after it.
COPY_COUNTS = ("copied", "already", "ended", "not_rosterable", "same_person")
# The section of the page each form's notice leads to.
SECTIONS = {
    "surge": "surge",
    "volunteer": "volunteers",
    "swap": "swaps",
    "clock": "clock",
    "roster": "roster",
    "attendance": "attendance",
    "shifts": "shifts",
}


def _day(raw: str, today: date) -> tuple[date, Any]:
    """The chosen day, or today with the reason the address's one was not taken."""
    if not raw:
        return today, None
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        return today, BAD_DATE
    if abs((day - today).days) > DAYS_AROUND:
        return today, FAR_DATE
    return day, None


def _scale(raw: str) -> float:
    """The scale as typed; one the forecast does not offer is refused by its service."""
    try:
        return float(raw) if raw else 1.0
    except ValueError:
        return 0.0


async def _render(
    request: Request,
    state: AppState,
    *,
    day_raw: str = "",
    scale_raw: str = "",
    errors: dict[str, Any] | None = None,
    typed: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    errors = dict(errors or {})
    now = utcnow()
    today = state.site.local(now).date()
    day, day_error = _day(day_raw, today)
    if day_error is not None:
        errors["date"], status = day_error, 422
    scale = _scale(scale_raw)
    rules = planning.StaffingRules.from_settings(state.settings)
    async with state.unit_of_work(read_only=True) as session:
        actor = await page_actor(request, state, session)
        if actor is None or actor.user_id is None:
            return RedirectResponse("/login", status_code=303)
        # Opened without a day: an operator sees the week of the shift being worked.
        week_day = await working_day(session, now) if not day_raw else None
        try:
            board = await views.read_board(
                session,
                actor=actor,
                day=day,
                week_day=week_day,
                scale=scale,
                rules=rules,
                now=now,
                surge_rules=surge.SurgeRules.from_settings(state.settings),
            )
        except InvalidInput as exc:
            if exc.field != "scale":
                raise
            errors["scale"], status, scale = exc.detail, 422, 1.0
            board = await views.read_board(
                session,
                actor=actor,
                day=day,
                week_day=week_day,
                scale=scale,
                rules=rules,
                now=now,
                surge_rules=surge.SurgeRules.from_settings(state.settings),
            )
        user = await get_user(session, actor.user_id)
    _unplaced(errors, board)
    q = request.query_params
    done = DONE.get(q.get("done", "")) or withdrawal_notice(q.get("done", ""), q.get("removed", ""))
    typed = dict(typed or {})
    # After a place is added the form keeps its shift: the next is often for the same one.
    if request.query_params.get("shift", "").isdigit():
        typed.setdefault("roster-shift_id", request.query_params["shift"])
    copied = None
    if request.query_params.get("done") == "roster_copy":
        q = request.query_params
        copied = {k: int(q[k]) if q.get(k, "").isdigit() else 0 for k in COPY_COUNTS}
    context = {
        "user": user,
        "csrf": csrf_token(request),
        "nav": nav_for(actor),
        "tz": state.site.timezone,
        "now": now,
        "today": today,
        "b": board,
        "scale": int(scale),
        "days": [board.week_start + timedelta(days=i) for i in range(7)],
        "one_week": timedelta(days=7),
        "roster_rows": _by_shift(board.week),
        "prev_week": (board.day - timedelta(days=7)).isoformat(),
        "next_week": (board.day + timedelta(days=7)).isoformat(),
        "errors": errors,
        "typed": typed,
        "done": done,
        "copied": copied,
        "date_raw": day_raw if day_error is not None else "",
    }
    return templates.TemplateResponse(request, "staffing/board.html", context, status_code=status)


async def clock_refusal(request: Request, state: AppState, exc: DomainError) -> Response:
    """The staffing page with a refusal about being at work next to its clock form (the
    console's availability buttons, when no place or leave lets the operator in)."""
    return await _render(request, state, errors={"clock": exc.detail}, status=exc.status)


def _by_shift(week: list[service.ShiftDay]) -> list[tuple[str, list[service.ShiftDay]]]:
    """The week's shift-days as rows, one per shift, its days in order."""
    rows: dict[str, list[service.ShiftDay]] = {}
    for shift_day in week:
        rows.setdefault(shift_day.shift.code, []).append(shift_day)
    return list(rows.items())


def _unplaced(errors: dict[str, Any], board: views.Board) -> None:
    """A refusal about a volunteer or a swap no longer listed (decided meanwhile) goes on
    top of the page: its row, where it would be shown, is gone."""
    # Each form is where it is shown: deciding on a waiting offer, the account on an
    # approved one, the withdrawal on both.
    shown = {f"volunteer-{v.id}" for v in board.pending_volunteers}
    shown |= {f"relink-{v.id}" for v in board.approved_volunteers}
    shown |= {f"withdraw-{v.id}" for v in board.pending_volunteers + board.approved_volunteers}
    shown |= {f"swap-{s.swap.id}" for s in board.swaps}
    if board.own_offer is not None:
        shown.add("own-offer")
    prefixes = ("volunteer-", "withdraw-", "relink-", "swap-", "own-offer")
    for key in [k for k in errors if k.startswith(prefixes)]:
        if "-".join(key.split("-")[:2]) not in shown:
            errors["page"] = errors.pop(key)


@router.get("/staffing", response_class=HTMLResponse)
async def staffing_page(request: Request, state: StateDep) -> Response:
    q = request.query_params
    return await _render(
        request, state, day_raw=without_nul(q.get("date", ""))[:40], scale_raw=q.get("scale", "")
    )


Action = Callable[[AsyncSession, Actor], Awaitable[str | None]]


async def _act(
    request: Request,
    state: AppState,
    *,
    csrf: str,
    key: str,
    action: Action,
    done: str,
    typed: dict[str, str] | None = None,
    early: dict[str, Any] | None = None,
    fields: frozenset[str] = frozenset(),
    aliases: dict[str, str] | None = None,
    to: str | Callable[[], str] = "",
    week: str = "",
) -> Response:
    """One form: its token checked, then what the page found wrong before the service
    (`early`), then the service call in its own transaction and back to the page at
    `done` (the page's notice and section; the action may name another), or `to`. A mistake (the
    unit of work rolled back) shows the page again with the message next to the field
    it names (`key-field`) or on top of the form (`key`); a refusal is the shared
    refusal page. `aliases` name the form's field for a service's one (a person picked
    in one list is the service's `user_id` or `volunteer_id`); `week` is the day whose
    week the form was on, shown again with a mistake."""
    if not csrf_matches(request, csrf):
        return await _render(
            request, state, day_raw=week, errors={key: EXPIRED}, typed=typed, status=400
        )
    if early:
        return await _render(request, state, day_raw=week, errors=early, typed=typed, status=422)
    try:
        async with state.unit_of_work() as session:
            actor = await page_actor(request, state, session)
            if actor is None or actor.user_id is None:
                return RedirectResponse("/login", status_code=303)
            done = await action(session, actor) or done
    except NotAllowed:
        raise
    except DomainError as exc:
        named = (aliases or {}).get(exc.field or "", exc.field)
        where = f"{key}-{named}" if exc.field in fields else key
        return await _render(
            request, state, day_raw=week, errors={where: exc.detail}, typed=typed, status=exc.status
        )
    section = SECTIONS[done.split("_")[0]]
    # `to` may be made from what the action did (a copied week's counts).
    address = to() if callable(to) else to
    return RedirectResponse(address or f"/staffing?done={done}#{section}", status_code=303)


@router.post("/staffing/surge", response_class=HTMLResponse)
async def switch_surge(
    request: Request,
    state: StateDep,
    refused: FormRefusals,
    active: FormText = "",
    reason: FormText = "",
    csrf: FormText = "",
) -> Response:
    """A supervisor's switch (surge.switch, as `PUT /api/v1/surge`)."""
    reason = without_nul(reason).strip()
    on = active == "1"

    rules = surge.SurgeRules.from_settings(state.settings)

    async def action(session: AsyncSession, actor: Actor) -> str:
        change = await surge.switch(
            session, actor=actor, active=on, reason=reason[:200], rules=rules
        )
        if change is None:
            return "surge_same"
        return "surge_on" if on else "surge_off"

    return await _act(
        request,
        state,
        csrf=csrf,
        key="surge",
        action=action,
        done="surge_same",
        typed={"surge-reason": reason},
        early={"surge-reason": next(iter(refused.values()))} if refused else None,
    )


@router.post("/staffing/volunteers/{volunteer_id}/{verb}", response_class=HTMLResponse)
async def decide_volunteer(
    request: Request,
    state: StateDep,
    volunteer_id: Id,
    verb: Literal["approve", "reject"],
    refused: FormRefusals,
    user_id: FormText = "",
    csrf: FormText = "",
) -> Response:
    """Approve (optionally with the account the volunteer answers calls with) or refuse a
    volunteer (volunteers.decide, as the API)."""
    key = f"volunteer-{volunteer_id}"
    raw = without_nul(user_id).strip() if verb == "approve" else ""
    early: dict[str, Any] = {f"{key}-user_id": next(iter(refused.values()))} if refused else {}
    if raw and not (raw.isdigit() and len(raw) < 19):
        early.setdefault(f"{key}-user_id", NOT_A_NUMBER)
    account = int(raw) if raw and not early else None

    async def action(session: AsyncSession, actor: Actor) -> None:
        await volunteers.decide(
            session,
            actor=actor,
            volunteer_id=volunteer_id,
            approve=verb == "approve",
            user_id=account,
        )

    return await _act(
        request,
        state,
        csrf=csrf,
        key=key,
        action=action,
        done=f"volunteer_{verb}",
        typed={f"{key}-user_id": raw},
        early=early,
        fields=frozenset({"user_id"}),
    )


@router.post("/staffing/clock/{verb}", response_class=HTMLResponse)
async def clock(
    request: Request,
    state: StateDep,
    verb: Literal["in", "out"],
    refused: FormRefusals,
    back: FormText = "",
    reason: FormText = "",
    csrf: FormText = "",
) -> Response:
    """Clock in (available on the line) or out (away): service.clock, as the API. The
    console's phone panel posts here too (`back=/`) and is sent back to the console."""

    reason = without_nul(reason).strip()
    early = timedelta(minutes=state.settings.staffing_clock_in_early_minutes)

    async def action(session: AsyncSession, actor: Actor) -> None:
        await service.clock(
            session, actor=actor, clock_in=verb == "in", reason=reason[:200], early=early
        )

    return await _act(
        request,
        state,
        csrf=csrf,
        key="clock",
        action=action,
        done=f"clock_{verb}",
        typed={"clock-reason": reason},
        early={"clock-reason": next(iter(refused.values()))} if refused else None,
        fields=frozenset({"reason"}),
        to="/" if back == "/" else "",
    )
