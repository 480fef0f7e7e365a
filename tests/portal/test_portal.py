"""The citizen portal over HTTP: sending, the answer page, tracking, files, the public list,
throttles and the pages for every refusal."""

from __future__ import annotations

import re
import struct
import zlib
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from hotline.app import create_app
from hotline.attachments.models import Attachment
from hotline.auth.service import SYSTEM
from hotline.cases.models import Case
from hotline.cases.service import NewCase, open_case
from hotline.cases.workflow import resolve_case

pytestmark = pytest.mark.anyio
WARD = "00004"  # a ward of Hà Nội, the test site's province
WARD_NAME = "Phường Ba Đình"


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def csrf_of(html: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', html)
    assert match, html[:500]
    return match.group(1)


def report(**fields: str) -> dict[str, str]:
    return {
        "description": "Cống trước nhà bị tắc, nước thải tràn ra đường hai ngày nay",
        "ward_code": WARD,
        "category": "khac",
        "address": "Số 12 ngõ 34 phố Đội Cấn",
        "name": "Nguyễn Thị Hoa",
        "phone": "0912345678",
        "public": "1",
    } | fields


async def send(client: httpx.AsyncClient, **fields: str) -> dict[str, str]:
    """Sends a report as the app's script does; returns its code and secret."""
    page = await client.get("/phan-anh")
    r = await client.post(
        "/phan-anh",
        data=report(**fields) | {"csrf": csrf_of(page.text)},
        headers={"Accept": "application/json"},
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def case_count(app: Any) -> int:
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        return int(await session.scalar(select(func.count()).select_from(Case)) or 0)


async def track(client: httpx.AsyncClient, code: str, secret: str) -> httpx.Response:
    page = await client.get("/tra-cuu")
    return await client.post(
        "/tra-cuu", data={"code": code, "secret": secret, "csrf": csrf_of(page.text)}
    )


async def test_a_citizen_sends_a_report_and_sees_its_code_and_secret_once(app, client):
    page = await client.get("/phan-anh")
    assert page.status_code == 200
    assert '<link rel="manifest" href="/phan-anh/manifest.webmanifest">' in page.text
    assert 'href="/faq"' in page.text and 'href="/tra-cuu"' in page.text
    assert WARD_NAME in page.text  # the site's wards to choose from
    r = await client.post(
        "/phan-anh", data=report() | {"csrf": csrf_of(page.text)}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/phan-anh/da-gui"
    answer = await client.get("/phan-anh/da-gui")
    code = re.search(r'class="case-code">([^<]+)<', answer.text)
    secret = re.search(r'class="case-secret">([^<]+)<', answer.text)
    assert code and secret
    assert re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", secret.group(1))
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        case = await session.scalar(select(Case).where(Case.code == code.group(1)))
        assert case is not None
        assert (case.channel.value, case.ward_code, case.public) == ("web", WARD, True)
        assert case.category_code == "khac" and case.contact_id is not None
    # Shown once: the secret is not in the session any more.
    again = await client.get("/phan-anh/da-gui")
    assert secret.group(1) not in again.text and "Không có phản ánh mới" in again.text


async def test_a_validation_error_keeps_everything_typed_and_saves_nothing(app, client):
    page = await client.get("/phan-anh")
    typed = report(description="Ngắn", ward_code="", phone="0912-abc")
    r = await client.post("/phan-anh", data=typed | {"csrf": csrf_of(page.text)})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("text/html")
    html = r.text
    assert 'id="description-error">Vui lòng mô tả sự việc (ít nhất 10 ký tự).' in html
    assert 'id="ward_code-error">Vui lòng chọn phường, xã' in html
    assert 'id="phone-error">Số điện thoại không hợp lệ' in html
    assert ">Ngắn</textarea>" in html
    for kept in ('value="Số 12 ngõ 34 phố Đội Cấn"', 'value="Nguyễn Thị Hoa"', 'value="0912-abc"'):
        assert kept in html
    assert '<option value="khac" selected>' in html and 'name="public" value="1" checked' in html
    assert await case_count(app) == 0


async def test_an_unknown_ward_or_category_is_named_next_to_its_field(app, client):
    page = await client.get("/phan-anh")
    r = await client.post(
        "/phan-anh",
        data=report(ward_code="99999", category="khong_co") | {"csrf": csrf_of(page.text)},
        headers={"Accept": "application/json"},
    )
    assert r.status_code == 422
    assert set(r.json()["errors"]) == {"ward_code", "category"}
    assert await case_count(app) == 0


async def test_an_expired_form_token_keeps_the_text_and_saves_nothing(app, client):
    r = await client.post("/phan-anh", data=report() | {"csrf": "cu-roi"})
    assert r.status_code == 400
    assert "Phiên làm việc đã hết hạn" in r.text
    assert "Cống trước nhà bị tắc" in r.text and 'value="Nguyễn Thị Hoa"' in r.text
    assert await case_count(app) == 0


async def test_photos_are_added_by_the_holder_of_the_secret_only(app, client):
    sent = await send(client)
    token = csrf_of((await client.get("/phan-anh")).text)
    url = f"/phan-anh/{sent['code']}/tep"
    files = {"file": ("anh.png", tiny_png(), "image/png")}
    ok = await client.post(url, data={"secret": sent["secret"], "csrf": token}, files=files)
    assert ok.status_code == 201, ok.text
    assert ok.json()["filename"] == "anh.png"
    wrong = await client.post(url, data={"secret": "AAAAA-AAAAA", "csrf": token}, files=files)
    assert wrong.status_code == 401
    # Not a photo or a video, whatever its name says.
    text = {"file": ("anh.png", b"khong phai anh " * 20, "image/png")}
    refused = await client.post(url, data={"secret": sent["secret"], "csrf": token}, files=text)
    assert refused.status_code == 415
    # Someone else's case with this secret: refused like a wrong secret.
    other = await send(client, description="Đèn đường ngõ 5 hỏng cả tuần nay rồi")
    cross = await client.post(
        f"/phan-anh/{other['code']}/tep",
        data={"secret": sent["secret"], "csrf": token},
        files=files,
    )
    assert cross.status_code == 401
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        stored = (await session.scalars(select(Attachment))).all()
    assert [a.media_type for a in stored] == ["image/png"]


async def test_at_most_five_files_per_report(client):
    sent = await send(client)
    token = csrf_of((await client.get("/phan-anh")).text)
    codes = []
    for _ in range(6):
        r = await client.post(
            f"/phan-anh/{sent['code']}/tep",
            data={"secret": sent["secret"], "csrf": token},
            files={"file": ("anh.png", tiny_png(), "image/png")},
        )
        codes.append(r.status_code)
    assert codes == [201] * 5 + [409]


async def test_tracking_shows_the_status_and_the_hotlines_answer_only(app, client):
    sent = await send(client)
    first = await track(client, sent["code"], sent["secret"].lower().replace("-", " "))
    assert first.status_code == 200
    assert 'id="status">Mới<' in first.text and "Chưa có trả lời" in first.text
    async with app.state.hotline.unit_of_work() as session:
        case = await session.scalar(select(Case).where(Case.code == sent["code"]))
        assert case is not None
        await resolve_case(
            session, actor=SYSTEM, case=case, answer="Công ty thoát nước đã nạo vét cống."
        )
    r = await track(client, sent["code"], sent["secret"])
    assert 'id="status">Đã giải quyết<' in r.text
    assert "Công ty thoát nước đã nạo vét cống." in r.text
    for personal in ("Nguyễn Thị Hoa", "0912345678", "Đội Cấn", "Cống trước nhà"):
        assert personal not in r.text


async def test_a_wrong_secret_an_unknown_code_and_a_phone_case_get_the_same_answer(app, client):
    mine = await send(client)
    theirs = await send(client, description="Nhà bên cạnh tụ tập đông người hát karaoke")
    async with app.state.hotline.unit_of_work() as session:
        by_phone = await open_case(
            session,
            actor=SYSTEM,
            data=NewCase(channel="phone", description="Gọi điện hỏi về tiêm vắc xin"),
        )
        phone_code = by_phone.code
    answers = [
        await track(client, mine["code"], theirs["secret"]),  # another person's secret
        await track(client, "ZZZZ-ZZZZ", mine["secret"]),  # no such code
        await track(client, phone_code, mine["secret"]),  # a case not sent here
        await track(client, "khong hop le", "?"),
    ]
    assert {r.status_code for r in answers} == {404}
    errors = {re.search(r'id="track-error"[^>]*>([^<]+)<', r.text).group(1) for r in answers}  # type: ignore[union-attr]
    assert len(errors) == 1
    for r in answers:
        assert 'id="result"' not in r.text
        assert "karaoke" not in r.text and "vắc xin" not in r.text
    # The code is kept in the form for another try.
    assert f'value="{mine["code"]}"' in answers[0].text


async def test_wrong_secrets_for_one_code_are_throttled(client):
    sent = await send(client)
    for _ in range(10):
        assert (await track(client, sent["code"], "AAAAA-AAAAA")).status_code == 404
    r = await track(client, sent["code"], sent["secret"])
    assert r.status_code == 429
    assert "sai quá nhiều lần" in r.text and 'id="result"' not in r.text


async def test_the_public_list_has_public_reports_without_personal_data(client):
    await send(
        client,
        description=(
            "Bà Nguyễn Thị Hoa ở Số 12 ngõ 34 phố Đội Cấn báo cống tắc, "
            "gọi 0987 654 321 hoặc hoa@example.vn"
        ),
    )
    await send(client, description="Báo cáo riêng tư về hàng xóm nghi nhiễm", public="")
    r = await client.get("/phan-anh/cong-khai")
    assert r.status_code == 200
    html = r.text
    assert "báo cống tắc" in html and "Khác" in html and WARD_NAME in html and "Mới" in html
    for personal in ("Nguyễn Thị Hoa", "Đội Cấn", "0987 654 321", "hoa@example.vn", "0912345678"):
        assert personal not in html
    assert "[đã ẩn]" in html
    assert "riêng tư" not in html


async def test_throttled_pages_say_so_and_keep_the_typed_text(settings):
    app = create_app(settings.model_copy(update={"public_requests_per_minute": 2}))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        page = await c.get("/phan-anh")
        await c.get("/phan-anh/cong-khai")
        refused = await c.get("/tra-cuu")
        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith("text/html")
        assert "Quá nhiều yêu cầu" in refused.text and "thử lại sau" in refused.text
        r = await c.post("/phan-anh", data=report() | {"csrf": csrf_of(page.text)})
        assert r.status_code == 429
        assert "Cống trước nhà bị tắc" in r.text and 'value="0912345678"' in r.text
    await app.state.hotline.close()


async def test_the_app_is_installable_with_a_worker_covering_the_form(client):
    sw = await client.get("/phan-anh/sw.js")
    assert sw.status_code == 200
    assert sw.headers["content-type"].startswith("text/javascript")
    assert sw.headers["service-worker-allowed"] == "/phan-anh"
    manifest = await client.get("/phan-anh/manifest.webmanifest")
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    body = manifest.json()
    assert body["start_url"] == "/phan-anh" and body["display"] == "standalone"
    for icon in body["icons"]:
        got = await client.get(icon["src"])
        assert got.status_code == 200 and got.headers["content-type"] == icon["type"]
    # The form's script is a file (no inline script under the CSP).
    page = await client.get("/phan-anh")
    assert '<script src="/static/portal/portal.js" defer></script>' in page.text
    assert "<script>" not in page.text and " style=" not in page.text


async def test_the_portal_takes_no_other_anonymous_posts(client):
    r = await client.post("/api/v1/cases", json={"channel": "web", "description": "x" * 20})
    assert r.status_code == 401


async def test_only_a_hash_of_the_secret_is_stored(app, client):
    from hotline.portal.models import PortalTicket

    sent = await send(client)
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        stored = (await session.scalars(select(PortalTicket.secret_hash))).all()
    assert len(stored) == 1 and sent["secret"] not in stored[0]
    assert sent["secret"].replace("-", "") not in stored[0].upper()


async def test_an_unknown_portal_address_gets_a_page(client):
    r = await client.get("/phan-anh/khong-co-trang-nay")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "Không có trang này" in r.text and 'href="/phan-anh"' in r.text


async def test_a_report_posted_without_the_script_keeps_its_photo(app, client):
    page = await client.get("/phan-anh")
    assert 'enctype="multipart/form-data"' in page.text
    # What a browser without the script posts: the fields and the chosen photo, in one
    # multipart form, bigger than a plain form may be (1 MB here).
    photo = tiny_png() + b"\0" * (1024 * 1024)
    r = await client.post(
        "/phan-anh",
        data=report() | {"csrf": csrf_of(page.text)},
        files=[("files", ("anh.png", photo, "image/png")), ("files", ("", b"", "image/png"))],
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    answer = await client.get("/phan-anh/da-gui")
    code = re.search(r'class="case-code">([^<]+)<', answer.text)
    assert code and "refused-" not in answer.text
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        case = await session.scalar(select(Case).where(Case.code == code.group(1)))
        assert case is not None
        names = (
            await session.scalars(select(Attachment.filename).where(Attachment.case_id == case.id))
        ).all()
    assert names == ["anh.png"]


async def test_a_refused_file_posted_with_the_form_is_named_and_the_report_kept(client):
    page = await client.get("/phan-anh")
    r = await client.post(
        "/phan-anh",
        data=report() | {"csrf": csrf_of(page.text)},
        files={"files": ("ghi-chu.txt", b"not a photo", "text/plain")},
        follow_redirects=True,
    )
    assert r.status_code == 200
    assert 'class="case-code"' in r.text and "ghi-chu.txt" in r.text


@pytest.mark.parametrize("path", ["/tra-cuu/x", "/cham-soc/a/b"])
async def test_a_citizens_refusal_page_leads_back_to_the_portal(client, path):
    r = await client.get(path)
    assert r.status_code == 404
    assert '<a href="/phan-anh">Về trang chính</a>' in r.text


async def test_a_staff_refusal_page_leads_to_the_workspace(client):
    r = await client.get("/khong-co-trang-nay")
    assert r.status_code == 404
    assert '<a href="/">Về trang chính</a>' in r.text
