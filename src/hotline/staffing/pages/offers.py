"""The staffing page's forms on volunteer offers after the sign-up: a supervisor withdraws
an offer, waiting or approved, with a reason (offers.withdraw: its places on shifts not
yet begun are removed, and the page says how many), or moves an approved offer to another
account, picked by name, or unlinks it (offers.relink); a call taker whose account is
linked to an offer withdraws their own (offers.own_offer, then offers.withdraw). Each
calls the API's service, which checks who may; a mistake is shown next to its field."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Actor
from hotline.messages import msg
from hotline.staffing import offers
from hotline.staffing.pages.board import StateDep, _act
from hotline.types import Id
from hotline.web.inputs import FormRefusals, without_nul

router = APIRouter(include_in_schema=False)
FormText = Annotated[str, Form()]
PICK_ACCOUNT = msg("Chọn một tài khoản trong danh sách")


def _reason(raw: str, refused: dict[str, Any], key: str) -> tuple[str, dict[str, Any]]:
    reason = without_nul(raw).strip()
    early = {f"{key}-reason": next(iter(refused.values()))} if refused else {}
    return reason, early


@router.post("/staffing/volunteers/{volunteer_id}/withdraw", response_class=HTMLResponse)
async def withdraw_offer(
    request: Request,
    state: StateDep,
    volunteer_id: Id,
    refused: FormRefusals,
    reason: FormText = "",
    csrf: FormText = "",
) -> Response:
    """A supervisor takes an offer off the list (offers.withdraw, as the API's
    `POST /api/v1/volunteers/{id}/withdraw`)."""
    key = f"withdraw-{volunteer_id}"
    reason, early = _reason(reason, refused, key)
    removed: list[int] = []

    async def action(session: AsyncSession, actor: Actor) -> None:
        done = await offers.withdraw(session, actor=actor, volunteer_id=volunteer_id, reason=reason)
        removed.append(done.places_removed)

    return await _act(
        request,
        state,
        csrf=csrf,
        key=key,
        action=action,
        done="volunteer_withdraw",
        typed={f"{key}-reason": reason},
        early=early,
        fields=frozenset({"reason"}),
        to=lambda: f"/staffing?done=volunteer_withdraw&removed={removed[0]}#volunteers",
    )


@router.post("/staffing/volunteers/{volunteer_id}/account", response_class=HTMLResponse)
async def relink_offer(
    request: Request,
    state: StateDep,
    volunteer_id: Id,
    refused: FormRefusals,
    user_id: FormText = "",
    csrf: FormText = "",
) -> Response:
    """A supervisor moves an approved offer to the account picked in the list, or unlinks
    it when none is (offers.relink, as `PUT /api/v1/volunteers/{id}/account`)."""
    key = f"relink-{volunteer_id}"
    raw = without_nul(user_id).strip()
    early: dict[str, Any] = {f"{key}-user_id": next(iter(refused.values()))} if refused else {}
    if raw and not (raw.isdigit() and len(raw) < 19):
        early.setdefault(f"{key}-user_id", PICK_ACCOUNT)
    account = int(raw) if raw and not early else None

    async def action(session: AsyncSession, actor: Actor) -> str:
        await offers.relink(session, actor=actor, volunteer_id=volunteer_id, user_id=account)
        return "volunteer_relink" if account is not None else "volunteer_unlink"

    return await _act(
        request,
        state,
        csrf=csrf,
        key=key,
        action=action,
        done="volunteer_relink",
        typed={f"{key}-user_id": raw},
        early=early,
        fields=frozenset({"user_id"}),
    )


@router.post("/staffing/my-offer/withdraw", response_class=HTMLResponse)
async def withdraw_own_offer(
    request: Request,
    state: StateDep,
    refused: FormRefusals,
    reason: FormText = "",
    csrf: FormText = "",
) -> Response:
    """A volunteer answering calls with a linked account withdraws their own offer (the
    service finds it by the account: nobody can name another's)."""
    key = "own-offer"
    reason, early = _reason(reason, refused, key)
    removed: list[int] = []

    async def action(session: AsyncSession, actor: Actor) -> None:
        mine = await offers.own_offer(session, actor=actor)
        done = await offers.withdraw(session, actor=actor, volunteer_id=mine.id, reason=reason)
        removed.append(done.places_removed)

    return await _act(
        request,
        state,
        csrf=csrf,
        key=key,
        action=action,
        done="volunteer_ownwithdraw",
        typed={f"{key}-reason": reason},
        early=early,
        fields=frozenset({"reason"}),
        to=lambda: f"/staffing?done=volunteer_ownwithdraw&removed={removed[0]}#mine",
    )
