"""What the staffing page says about each volunteer offer it lists: how its number was
proved (the code texted to it, or the supervisor who approved it after phoning), how many
other offers the same number has (someone may have signed up with another's number), and
the account it answers calls with, by name. Read apart from views.py to keep it short."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.permissions import Permission, require
from hotline.auth.service import Actor, display_names
from hotline.messages import Message, msg
from hotline.staffing.models import Volunteer


@dataclass(frozen=True)
class OfferInfo:
    confirmed: str | None  # "code", "supervisor" or None (not proved yet)
    same_number: int  # the number's other offers, in any state
    account: str  # the linked account's name, "" when none


async def offer_details(
    session: AsyncSession, *, actor: Actor, offers: Sequence[Volunteer]
) -> dict[int, OfferInfo]:
    """Each offer's proof, its number's other offers and its account (supervisors)."""
    require(
        actor,
        Permission.MANAGE_STAFFING,
        msg("Chỉ trưởng ca và quản trị viên xem được danh sách tình nguyện viên"),
    )
    phones = {v.phone for v in offers}
    counts: dict[str, int] = {}
    if phones:
        counts = {
            phone: int(n)
            for phone, n in (
                await session.execute(
                    select(Volunteer.phone, func.count())
                    .where(Volunteer.phone.in_(phones))
                    .group_by(Volunteer.phone)
                )
            ).all()
        }
    names = await display_names(session, {v.user_id for v in offers if v.user_id is not None})
    return {
        v.id: OfferInfo(
            confirmed=None
            if v.phone_confirmed_at is None
            else "code"
            if v.phone_confirmed_by is None
            else "supervisor",
            same_number=max(counts.get(v.phone, 1) - 1, 0),
            account=names.get(v.user_id, "") if v.user_id is not None else "",
        )
        for v in offers
    }


def withdrawal_notice(done: str, removed: str) -> Message | None:
    """What the page says after a withdrawal, with the places it removed (carried in the
    address of the page shown after it)."""
    if done not in ("volunteer_withdraw", "volunteer_ownwithdraw"):
        return None
    n = int(removed) if removed.isdigit() and len(removed) < 9 else 0
    if done == "volunteer_ownwithdraw":
        return msg(
            "Bạn đã rút đăng ký tình nguyện; {n} chỗ trong các ca chưa bắt đầu đã được bỏ.", n=n
        )
    return msg(
        "Đã rút tình nguyện viên khỏi danh sách; {n} chỗ trong các ca chưa bắt đầu đã được bỏ.",
        n=n,
    )
