"""The staffing JSON API, one module per concern: shifts and the roster (with clocking
in), swaps, volunteers, the forecast and surge mode. Routes stay thin: each calls one
service function."""

from __future__ import annotations

from fastapi import APIRouter

from hotline.staffing.api import forecast, roster, surge, swaps, volunteers

router = APIRouter()
for _module in (roster, swaps, forecast, volunteers, surge):
    router.include_router(_module.router)
