"""The period report (`/reports?from=&to=`): the figures of `hotline report` with charts and
names, downloaded as CSV or XLSX (`&format=csv|xlsx`) through the CLI's own export, and
printable on A4."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hotline.auth import service as auth
from hotline.cases.transitions import CHANNEL_LABELS_VI
from hotline.db import utcnow
from hotline.directory.service import category_names
from hotline.errors import InvalidInput, NotAllowed
from hotline.messages import msg
from hotline.reports import export, labels, service
from hotline.web.deps import get_state
from hotline.web.i18n import language_of, translator
from hotline.web.page import csrf_token, nav_for, page_actor, templates_for
from hotline.web.state import AppState

templates = templates_for(__file__)
router = APIRouter(include_in_schema=False)
StateDep = Annotated[AppState, Depends(get_state)]

# The period shown when none is asked for: the last seven days, today included.
DEFAULT_DAYS = 7
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _parse(raw: str, default: date, field: str, errors: dict[str, str]) -> date:
    if not raw.strip():
        return default
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        errors[field] = msg("Ngày phải có dạng YYYY-MM-DD")
        return default


@router.get("/reports", response_class=HTMLResponse)
async def report(request: Request, state: StateDep) -> Response:
    # Query names `from`/`to` as the API's, read by hand so that a bad date is shown next
    # to its field (with what was typed) instead of a validation error.
    raw_from = request.query_params.get("from", "")
    raw_to = request.query_params.get("to", "")
    format = request.query_params.get("format", "")
    today = state.site.local(utcnow()).date()
    errors: dict[str, str] = {}
    start = _parse(raw_from, today - timedelta(days=DEFAULT_DAYS - 1), "from", errors)
    end = _parse(raw_to, today, "to", errors)
    async with state.unit_of_work(read_only=True) as session:
        actor = await page_actor(request, state, session)
        if actor is None or actor.user_id is None:
            return RedirectResponse("/login", status_code=303)
        context: dict[str, Any] = {
            "user": await auth.get_user(session, actor.user_id),
            "csrf": csrf_token(request),
            "nav": nav_for(actor),
            "typed": {"from": raw_from or start.isoformat(), "to": raw_to or end.isoformat()},
            "errors": errors,
        }
        data = None
        try:
            if not errors:
                data = await service.read_summary(
                    session, actor=actor, date_from=start, date_to=end
                )
        except NotAllowed as exc:
            return templates.TemplateResponse(
                request, "refused.html", {**context, "message": exc.detail}, 403
            )
        except InvalidInput as exc:
            errors[exc.field or "to"] = exc.detail
        categories = await category_names(session, language=language_of(request))
    # The downloads name every figure as the page does, in the page's language.
    lang = language_of(request)
    names: dict[str, Any] = {
        "categories": categories,
        "tr": translator(lang, "reports"),
        "lang": lang,
    }
    if data is not None and format == "csv":
        body = export.to_csv(data, **names).encode("utf-8-sig")
        return _download(body, data, "csv", "text/csv; charset=utf-8")
    if data is not None and format == "xlsx":
        buffer = io.BytesIO()
        export.to_xlsx(data, buffer, **names)
        return _download(buffer.getvalue(), data, "xlsx", XLSX)
    return templates.TemplateResponse(
        request,
        "reports/report.html",
        {
            **context,
            "data": data,
            "categories": categories,
            "channels": CHANNEL_LABELS_VI,
            "labels": labels,
        },
        status_code=400 if errors else 200,
    )


def _download(body: bytes, data: dict[str, Any], ext: str, media_type: str) -> Response:
    period = data["period"]
    name = f"bao-cao-{period['from']}-{period['to']}.{ext}"
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
