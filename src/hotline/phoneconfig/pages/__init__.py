"""The phone configuration's pages in the administration workspace (`/admin/phone`)."""

from __future__ import annotations

from fastapi import APIRouter

from hotline.phoneconfig.pages import view

router = APIRouter(include_in_schema=False)
router.include_router(view.router)
