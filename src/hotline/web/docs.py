"""The API's documentation page: Swagger UI from the package's own copy (web/static/swagger-ui),
so it works offline and under the CSP (no CDN, no inline script)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from hotline.web.page import BASE_TEMPLATES

templates = Jinja2Templates(directory=str(BASE_TEMPLATES))
router = APIRouter(include_in_schema=False)


@router.get("/api/v1/docs", response_class=HTMLResponse)
async def api_docs(request: Request) -> Response:
    return templates.TemplateResponse(request, "api_docs.html", {})
