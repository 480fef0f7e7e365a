"""Home care's pages: the patient's or carer's check-in form behind their signed link
(`link.py`, `/cham-soc/{token}`), and the doctors' and supervisors' pages in the web
workspace: the worklist and the patient list (`doctor.py`), the patient page with its
check-in form (`patient.py`) and its follow-up forms (end, edit, reassign:
`followup.py`), the alerts standing now (`alerts.py`)."""

from __future__ import annotations

from fastapi import APIRouter

from hotline.care.pages import alerts, doctor, followup, link, patient

router = APIRouter(include_in_schema=False)
router.include_router(link.router)
router.include_router(doctor.router)
router.include_router(patient.router)
router.include_router(followup.router)
router.include_router(alerts.router)
