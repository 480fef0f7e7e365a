"""The knowledge base's pages: the public FAQ (`faq.py`) and the editor for supervisors and
administrators in the administration workspace (`editor.py`, `/admin/knowledge`)."""

from __future__ import annotations

from fastapi import APIRouter

from hotline.knowledge.pages import editor, faq

router = APIRouter(include_in_schema=False)
router.include_router(faq.router)
router.include_router(editor.router)
