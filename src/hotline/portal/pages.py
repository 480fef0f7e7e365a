"""The citizen portal and app: send a report (`/phan-anh`), track it (`/tra-cuu`), read the
public reports (`/phan-anh/cong-khai`). No sign-in; every form carries the session's form
token, and every page is throttled per address with a page (not JSON) when refused.

The same routes serve the installed app (web app manifest + service worker): its script
sends the form with fetch() (`Accept: application/json`) and files with XMLHttpRequest for
the progress bar, and keeps a report written offline until the connection returns.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from uuid import uuid4

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.datastructures import UploadFile as StarletteUploadFile

from hotline.directory.service import list_categories, list_wards
from hotline.errors import DomainError, NotFound, Unauthenticated
from hotline.messages import Message, msg
from hotline.portal.service import (
    MAX_FILES,
    Report,
    ReportInvalid,
    Tracked,
    answer_report,
    attach_file,
    check_report,
    public_reports,
    send_report,
    track,
)
from hotline.web.deps import client_address, get_state
from hotline.web.errors import domain_problem
from hotline.web.i18n import language_of, translator
from hotline.web.inputs import NUL_MESSAGE, FormRefusals, without_nul
from hotline.web.page import csrf_matches, csrf_token, templates_for
from hotline.web.ratelimit import TooManyAttempts, TooManyRequests
from hotline.web.state import AppState

templates = templates_for(__file__)
router = APIRouter(include_in_schema=False)
StateDep = Annotated[AppState, Depends(get_state)]
STATIC = Path(__file__).resolve().parents[1] / "web" / "static" / "portal"
SENT_KEY = "portal_sent"  # the codes and secrets to show once on the answer page
SENT_KEPT = 5
EXPIRED = msg("Phiên làm việc đã hết hạn, vui lòng bấm gửi lại (nội dung vẫn được giữ).")
NOT_FOUND = msg("Không tìm thấy phản ánh với mã và mã bí mật này. Vui lòng kiểm tra lại.")
# The report form's fields a message can be shown next to (any other goes on top).
_FIELDS = frozenset({"description", "ward_code", "category", "address", "name", "phone"})


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


async def _throttled(request: Request, state: AppState) -> TooManyRequests | None:
    try:
        await state.public.hit(client_address(request))
    except TooManyRequests as exc:
        return exc
    return None


def _page(request: Request, name: str, context: dict[str, Any], *, status: int = 200) -> Response:
    return templates.TemplateResponse(
        request,
        f"portal/{name}.html",
        {"csrf": csrf_token(request), "site_name": request.app.state.hotline.settings.site_name}
        | context,
        status_code=status,
    )


def _refused_page(request: Request, exc: DomainError) -> Response:
    return _page(request, "error", {"title": exc.title, "message": exc.detail}, status=exc.status)


async def _form_page(
    request: Request,
    state: AppState,
    *,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    async with state.unit_of_work(read_only=True) as session:
        categories = await list_categories(session)
        wards = await list_wards(session, province_code=state.site.province_code, limit=10000)
    return _page(
        request,
        "report",
        {
            "categories": categories,
            "wards": wards,
            "values": values,
            "errors": errors,
            "max_bytes": state.site.attachment_max_bytes,
            "max_mb": f"{state.site.attachment_max_bytes / 1024 / 1024:g}",
            "max_files": MAX_FILES,
        },
        status=status,
    )


@router.get("/phan-anh", response_class=HTMLResponse)
async def report_form(request: Request, state: StateDep) -> Response:
    if (refusal := await _throttled(request, state)) is not None:
        return _refused_page(request, refusal)
    return await _form_page(request, state, values={}, errors={})


@router.post("/phan-anh", response_class=HTMLResponse)
async def send(
    request: Request,
    state: StateDep,
    refused: FormRefusals,
    description: Annotated[str, Form()] = "",
    ward_code: Annotated[str, Form()] = "",
    category: Annotated[str, Form()] = "",
    address: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "",
    public: Annotated[str, Form()] = "",
    channel: Annotated[str, Form()] = "web",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    report = Report(
        description=without_nul(description),
        ward_code=without_nul(ward_code),
        category=without_nul(category),
        address=without_nul(address),
        name=without_nul(name),
        phone=without_nul(phone),
        public=public == "1",
        channel=without_nul(channel),
    )
    errors: dict[str, str] = {}
    status = 422
    if (refusal := await _throttled(request, state)) is not None:
        errors["form"], status = refusal.detail, refusal.status
    elif not csrf_matches(request, csrf):
        errors["form"], status = EXPIRED, 400
    elif refused:
        # Every mistake at once: the NULs next to their fields, and the form's own checks.
        # The script keeps the text as typed, NUL included: it is told what the API says.
        script = _wants_json(request)
        errors = check_report(report) | {
            name if name in _FIELDS else "form": NUL_MESSAGE if script else message
            for name, message in refused.items()
        }
    else:
        try:
            async with state.unit_of_work() as session:
                sent = await send_report(session, report=report)
        except ReportInvalid as exc:
            errors = exc.errors
        else:
            shown = list(request.session.get(SENT_KEY) or [])[-(SENT_KEPT - 1) :]
            request.session[SENT_KEY] = [*shown, {"code": sent.code, "secret": sent.secret}]
            await _attach_posted_files(request, state, code=sent.code, secret=sent.secret)
            if _wants_json(request):
                return JSONResponse({"code": sent.code, "secret": sent.secret}, status_code=201)
            return Response(status_code=303, headers={"Location": "/phan-anh/da-gui"})
    if _wants_json(request):
        gettext = translator(language_of(request))
        said = {field: gettext(message) for field, message in errors.items()}
        return JSONResponse({"errors": said}, status_code=status)
    values = {
        "description": report.description,
        "ward_code": report.ward_code,
        "category": report.category,
        "address": report.address,
        "name": report.name,
        "phone": report.phone,
        "public": report.public,
    }
    return await _form_page(request, state, values=values, errors=errors, status=status)


async def _attach_posted_files(
    request: Request, state: AppState, *, code: str, secret: str
) -> None:
    """The photos sent with the form itself (a browser without the script posts them in the
    multipart form; the script sends them one by one to `/phan-anh/{code}/tep`). Each is
    checked and kept on its own: a refused file is named on the answer page, the report
    stays."""
    form = await request.form()  # already read (and cached) for the form's fields
    gettext = translator(language_of(request))
    for posted in form.getlist("files")[:MAX_FILES]:
        if not isinstance(posted, StarletteUploadFile) or not posted.filename:
            continue  # a file input left empty posts a part with no name
        data = await posted.read(state.site.attachment_max_bytes + 1)
        try:
            async with state.unit_of_work() as session:
                await attach_file(
                    session, code=code, secret=secret, filename=posted.filename, data=data
                )
        except DomainError as exc:
            _note_refused_file(request, code, posted.filename, gettext(exc.detail))


@router.get("/phan-anh/da-gui", response_class=HTMLResponse)
async def sent_page(request: Request) -> Response:
    """The codes and secrets of the reports just sent, shown once (then gone from the
    session: the secret is never shown again)."""
    sent = list(request.session.pop(SENT_KEY, None) or [])
    return _page(request, "sent", {"sent": sent})


def _note_refused_file(request: Request, code: str, filename: str, reason: str) -> None:
    """Remember a file the report did not take, for the answer page to say which and why
    (in the language of the page that sent it)."""
    shown = list(request.session.get(SENT_KEY) or [])
    for entry in shown:
        if str(entry.get("code", "")).upper() == code.upper():
            entry["refused"] = [*entry.get("refused", []), {"filename": filename, "reason": reason}]
            request.session[SENT_KEY] = shown
            return


@router.get("/phan-anh/csrf")
async def form_token(request: Request) -> JSONResponse:
    """A fresh form token for the app's script: a report kept offline is sent later, maybe
    from a page loaded from the service worker's cache with an older token."""
    return JSONResponse({"csrf": csrf_token(request)})


@router.post("/phan-anh/{code}/tep")
async def upload(
    request: Request,
    state: StateDep,
    code: str,
    file: Annotated[UploadFile, File()],
    secret: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """One photo or video for a report just sent, authorised by its tracking secret."""
    gettext = translator(language_of(request))
    if (refusal := await _throttled(request, state)) is not None:
        return domain_problem(refusal, gettext)
    if not csrf_matches(request, csrf):
        return JSONResponse({"detail": gettext(EXPIRED), "field": "csrf"}, status_code=400)
    # One byte past the cap tells the service it is too big without holding more.
    data = await file.read(state.site.attachment_max_bytes + 1)
    try:
        async with state.tracking.attempt(client_address(request), code.upper()[:20]):
            try:
                async with state.unit_of_work() as session:
                    attachment = await attach_file(
                        session, code=code, secret=secret, filename=file.filename or "", data=data
                    )
                    saved = {"filename": attachment.filename, "size": attachment.size}
            except NotFound as exc:
                raise Unauthenticated(exc.detail, field="code") from exc
    except DomainError as exc:  # a wrong secret, too many tries, or the file's own checks
        if exc.field == "file":
            _note_refused_file(request, code, file.filename or "", gettext(exc.detail))
        return domain_problem(exc, gettext)
    return JSONResponse(saved, status_code=201)


@router.get("/phan-anh/cong-khai", response_class=HTMLResponse)
async def public_list(request: Request, state: StateDep) -> Response:
    if (refusal := await _throttled(request, state)) is not None:
        return _refused_page(request, refusal)
    async with state.unit_of_work(read_only=True) as session:
        reports = await public_reports(session, language=language_of(request))
    return _page(request, "public", {"reports": reports, "tz": state.site.timezone})


@router.get("/tra-cuu", response_class=HTMLResponse)
async def track_form(request: Request, state: StateDep, ma: str = "") -> Response:
    if (refusal := await _throttled(request, state)) is not None:
        return _refused_page(request, refusal)
    return _page(request, "track", {"code": ma[:20], "secret": "", "found": None, "error": ""})


@router.post("/tra-cuu", response_class=HTMLResponse)
async def track_case(
    request: Request,
    state: StateDep,
    refused: FormRefusals,
    code: Annotated[str, Form()] = "",
    secret: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Status and answer for the holder of the code and its secret. A wrong code, a wrong
    secret and a case not sent here all get one answer, and count as failed attempts."""
    code, secret = without_nul(code).strip()[:40], without_nul(secret).strip()[:40]
    context: dict[str, Any] = {"code": code, "secret": secret, "found": None, "error": ""}
    if (refusal := await _throttled(request, state)) is not None:
        return _page(request, "track", context | {"error": refusal.detail}, status=429)
    if not csrf_matches(request, csrf):
        return _page(request, "track", context | {"error": EXPIRED}, status=400)
    if refused:
        return _page(
            request, "track", context | {"error": next(iter(refused.values()))}, status=422
        )
    try:
        async with state.tracking.attempt(client_address(request), code.upper()[:20]):
            async with state.unit_of_work(read_only=True) as session:
                found = await track(
                    session, code=code, secret=secret, language=language_of(request)
                )
            if found is None:
                raise Unauthenticated(NOT_FOUND)
    except Unauthenticated:
        return _page(request, "track", context | {"error": NOT_FOUND}, status=404)
    except TooManyAttempts:
        message = msg("Bạn đã nhập sai quá nhiều lần, vui lòng thử lại sau 15 phút.")
        return _page(request, "track", context | {"error": message}, status=429)
    return _page(request, "track", context | _found(found, state))


def _found(found: Tracked, state: AppState, **extra: Any) -> dict[str, Any]:
    # A fresh id for the answer form: the same form sent twice is one message.
    return {"found": found, "tz": state.site.timezone, "answer_key": uuid4().hex, **extra}


@router.post("/tra-cuu/tra-loi", response_class=HTMLResponse)
async def answer(
    request: Request,
    state: StateDep,
    refused: FormRefusals,
    code: Annotated[str, Form()] = "",
    secret: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "",
    key: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """The citizen writes to the hotline from the tracking page, with the code and secret
    they looked the report up with (checked and counted as on the lookup); the page
    answers with the thread, their message in it."""
    code, secret = without_nul(code).strip()[:40], without_nul(secret).strip()[:40]
    context: dict[str, Any] = {"code": code, "secret": secret, "found": None, "error": ""}
    if (refusal := await _throttled(request, state)) is not None:
        return _page(request, "track", context | {"error": refusal.detail}, status=429)
    if not csrf_matches(request, csrf):
        return _page(request, "track", context | {"error": EXPIRED}, status=400)
    if refused:
        return _page(
            request, "track", context | {"error": next(iter(refused.values()))}, status=422
        )
    language = language_of(request)
    try:
        async with state.tracking.attempt(client_address(request), code.upper()[:20]):
            try:
                async with state.unit_of_work() as session:
                    found = await answer_report(
                        session, code=code, secret=secret, text=text, key=key, language=language
                    )
            except DomainError as exc:  # the message itself (empty, too long): shown by it
                async with state.unit_of_work(read_only=True) as session:
                    found = await track(session, code=code, secret=secret, language=language)
                if found is None:
                    raise Unauthenticated(NOT_FOUND) from exc
                extra = {"answer_error": exc.detail, "answer_text": text}
                page = context | _found(found, state, **extra)
                return _page(request, "track", page, status=422)
            if found is None:
                raise Unauthenticated(NOT_FOUND)
    except Unauthenticated:
        return _page(request, "track", context | {"error": NOT_FOUND}, status=404)
    except TooManyAttempts:
        message = msg("Bạn đã nhập sai quá nhiều lần, vui lòng thử lại sau 15 phút.")
        return _page(request, "track", context | {"error": message}, status=429)
    return _page(request, "track", context | _found(found, state, answer_sent=True))


@router.get("/phan-anh/sw.js")
async def service_worker() -> FileResponse:
    """The app's service worker, from a path whose scope covers `/phan-anh` itself (a
    script under /static/ could only control /static/)."""
    return FileResponse(
        STATIC / "sw.js",
        media_type="text/javascript",
        headers={"Service-Worker-Allowed": "/phan-anh", "Cache-Control": "no-cache"},
    )


@router.get("/favicon.ico")
async def favicon() -> FileResponse:
    """The site's icon (the app's), asked for by every browser on every page: a PNG, which
    browsers take under this name, cached for a day."""
    return FileResponse(
        STATIC / "icon-192.png",
        media_type="image/png",
        headers={"Cache-Control": "public, max-age=86400"},
    )


MANIFEST = {
    "name": msg("Tổng đài 1022 — Gửi phản ánh"),
    "short_name": "1022",
    "description": msg("Gửi phản ánh, kiến nghị đến Tổng đài 1022 và tra cứu kết quả xử lý."),
    "lang": "vi",
    "start_url": "/phan-anh",
    "scope": "/phan-anh",
    "display": "standalone",
    "background_color": "#ffffff",
    "theme_color": "#b3261e",
    "icons": [
        {"src": "/static/portal/icon-192.png", "sizes": "192x192", "type": "image/png"},
        {"src": "/static/portal/icon-512.png", "sizes": "512x512", "type": "image/png"},
        {"src": "/static/portal/icon.svg", "sizes": "any", "type": "image/svg+xml"},
    ],
}


@router.get("/phan-anh/manifest.webmanifest")
async def manifest(request: Request) -> JSONResponse:
    """The app's manifest in the language of the pages (an app installed in English is named
    in English)."""
    code = language_of(request)
    gettext = translator(code, "portal")
    body = {k: gettext(v) if isinstance(v, Message) else v for k, v in MANIFEST.items()}
    body["lang"] = code
    return JSONResponse(
        body, media_type="application/manifest+json", headers={"Cache-Control": "no-cache"}
    )


@router.get("/phan-anh/{rest:path}", response_class=HTMLResponse)
async def not_found(request: Request) -> Response:
    """Any other address under the portal: a page a citizen can read, not JSON. Declared
    last, so it takes only what no route above took."""
    exc = NotFound("Không có trang này. Vui lòng kiểm tra lại đường dẫn.")
    return _refused_page(request, exc)
