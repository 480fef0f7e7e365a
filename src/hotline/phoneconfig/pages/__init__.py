"""The phone configuration's pages in the administration workspace (`/admin/phone`): the
whole configuration with its latest changes (`view.py`), one object's form and history
(`edit.py`), a prompt's recording: upload, listen, remove (`prompts.py`)."""

from __future__ import annotations

from fastapi import APIRouter

from hotline.phoneconfig.pages import edit, prompts, view

router = APIRouter(include_in_schema=False)
for module in (view, prompts, edit):
    router.include_router(module.router)
