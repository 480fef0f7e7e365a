"""Staffing's pages: the supervisors' and call takers' staffing page in the web workspace
(`board.py`, `/staffing`; its roster forms in `roster.py`, off-shift leave, clocking
out others and the shift templates in `attendance.py`, the volunteer offers' withdrawal
and account in `offers.py`, the swaps' steps in `swaps.py`) and the public volunteer sign-up
form on the citizen portal (`volunteer.py`, `/tinh-nguyen`)."""

from __future__ import annotations

from fastapi import APIRouter

from hotline.staffing.pages import attendance, board, offers, roster, swaps, volunteer

router = APIRouter(include_in_schema=False)
# Before board's `/staffing/volunteers/{id}/{verb}`, which would take `withdraw` too.
router.include_router(offers.router)
router.include_router(board.router)
router.include_router(swaps.router)
router.include_router(roster.router)
router.include_router(attendance.router)
router.include_router(volunteer.router)
