"""The request guard (web/guard.py): sign-in before the body is read, body caps, content types.

Bodies are streamed from generators that count what the server pulled, so "refused before a
byte was read" is measured, not assumed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hotline.app import create_app
from tests.conftest import new_case_body

pytestmark = pytest.mark.anyio

MIB = 1024 * 1024
CHUNK = 64 * 1024


class Body:
    """A request body of `size` bytes, produced on demand; `pulled` counts what was read."""

    def __init__(self, size: int, head: bytes = b"", fill: bytes = b" ") -> None:
        self.size, self.head, self.fill = size, head, fill
        self.pulled = 0

    async def stream(self) -> AsyncIterator[bytes]:
        sent = 0
        if self.head:
            self.pulled += len(self.head)
            sent += len(self.head)
            yield self.head
        while sent < self.size:
            chunk = self.fill * min(CHUNK, self.size - sent)
            sent += len(chunk)
            self.pulled += len(chunk)
            yield chunk


def _assert_problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert body["status"] == status
    return body


def _files_under(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.is_file()] if path.exists() else []


async def _case_code(client: httpx.AsyncClient, world: Any) -> str:
    r = await client.post("/api/v1/cases", json=new_case_body(), headers=world.auth("operator"))
    assert r.status_code == 201, r.text
    return str(r.json()["code"])


@pytest.mark.parametrize("path", ["/api/v1/contacts", "/api/v1/knowledge/articles"])
@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
async def test_anonymous_200mb_json_is_refused_before_a_byte_is_read(client, declared, path):
    body = Body(200 * MIB, head=b'{"name": "')
    headers = {"Content-Type": "application/json"}
    if declared:
        headers["Content-Length"] = str(body.size)
    r = await client.post(path, content=body.stream(), headers=headers)
    _assert_problem(r, 401)
    assert r.headers["www-authenticate"] == "Bearer"
    assert body.pulled == 0


@pytest.mark.parametrize(
    "path", ["/api/v1/cases/HL-1/attachments", "/api/v1/phone/prompts/welcome"]
)
async def test_anonymous_upload_is_refused_before_a_byte_is_read_and_nothing_is_stored(
    client, settings, path
):
    body = Body(1024 * MIB, head=b'--b\r\nContent-Disposition: form-data; name="file"\r\n\r\n')
    method = "PUT" if "/phone/" in path else "POST"
    r = await client.request(
        method,
        path,
        content=body.stream(),
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    _assert_problem(r, 401)
    assert body.pulled == 0
    # Nothing but the site key the app made at start-up.
    assert [p.name for p in _files_under(settings.var_dir)] in ([], ["secret_key"])


async def test_bad_bearer_token_is_refused_before_the_body_is_read(client):
    body = Body(10 * MIB, head=b"{")
    r = await client.post(
        "/api/v1/contacts",
        content=body.stream(),
        headers={"Content-Type": "application/json", "Authorization": "Bearer sai-ma"},
    )
    _assert_problem(r, 401)
    assert body.pulled == 0


async def test_signed_in_json_over_the_cap_is_413_from_its_content_length(client, world):
    body = Body(MIB + 1, head=b'{"description": "')
    r = await client.post(
        "/api/v1/cases",
        content=body.stream(),
        headers={
            **world.auth("operator"),
            "Content-Type": "application/json",
            "Content-Length": str(body.size),
        },
    )
    problem = _assert_problem(r, 413)
    assert problem["field"] == "body"
    assert body.pulled == 0


@pytest.mark.parametrize("lie", [None, "100"], ids=["chunked", "lying-content-length"])
async def test_streamed_json_over_the_cap_stops_being_read_at_the_cap(client, world, lie):
    body = Body(50 * MIB, head=b'{"description": "')
    headers = {**world.auth("operator"), "Content-Type": "application/json"}
    if lie:
        headers["Content-Length"] = lie
    r = await client.post("/api/v1/cases", content=body.stream(), headers=headers)
    _assert_problem(r, 413)
    # The guard stops at the chunk that crosses 1 MiB: nothing more is buffered.
    assert MIB < body.pulled <= MIB + CHUNK


async def test_json_under_the_cap_reaches_the_route(client, world):
    r = await client.post(
        "/api/v1/cases",
        json=new_case_body(description="x" * 900_000),
        headers=world.auth("operator"),
    )
    # Read whole and judged by the route's own rules (the description's length), not the cap.
    assert _assert_problem(r, 422)["field"] == "description"


async def test_streamed_upload_over_the_attachment_cap_is_413_and_stores_nothing(
    settings, world_small_uploads
):
    client, world, code = world_small_uploads
    before = _files_under(settings.var_dir / "attachments")
    body = Body(
        5 * MIB,
        head=(
            b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
            b"Content-Type: application/pdf\r\n\r\n%PDF-1.4\n"
        ),
    )
    r = await client.post(
        f"/api/v1/cases/{code}/attachments",
        content=body.stream(),
        headers={**world.auth("operator"), "Content-Type": "multipart/form-data; boundary=b"},
    )
    _assert_problem(r, 413)
    cap = 200 * 1024 + 64 * 1024  # attachment_max_bytes + the multipart allowance
    assert body.pulled <= cap + CHUNK
    assert _files_under(settings.var_dir / "attachments") == before


@pytest.fixture
async def world_small_uploads(settings, tmp_path):
    """An app whose attachments are capped at 200 KB, with an operator and one case."""
    from hotline.auth.service import create_user
    from tests.conftest import PASSWORD, World

    app = create_app(settings.model_copy(update={"attachment_max_bytes": 200 * 1024}))
    try:
        async with app.state.hotline.unit_of_work() as session:
            await create_user(session, username="operator", password=PASSWORD, role="operator")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            r = await c.post(
                "/api/v1/auth/token", data={"username": "operator", "password": PASSWORD}
            )
            world = World(tokens={"operator": r.json()["access_token"]}, units={})
            yield c, world, await _case_code(c, world)
    finally:
        await app.state.hotline.close()


@pytest.mark.parametrize("path", ["/api/v1/auth/token", "/login"])
async def test_public_sign_in_routes_are_capped_too(client, path):
    body = Body(2 * MIB, head=b"username=a&password=")
    r = await client.post(
        path,
        content=body.stream(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Content-Length": str(body.size),
        },
    )
    _assert_problem(r, 413)
    assert body.pulled == 0


async def test_public_routes_work_without_signing_in(client, world):
    from tests.conftest import PASSWORD

    r = await client.post("/api/v1/auth/token", data={"username": "admin", "password": PASSWORD})
    assert r.status_code == 200
    assert (await client.get("/api/v1/public/faq")).status_code == 200


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
async def test_json_routes_refuse_other_content_types_with_415(client, world, content_type):
    import json

    payload = json.dumps(new_case_body())
    for path in ("/api/v1/cases", "/api/v1/contacts"):
        r = await client.post(
            path,
            content=payload,
            headers={**world.auth("operator"), "Content-Type": content_type},
        )
        problem = _assert_problem(r, 415)
        assert problem["field"] == "Content-Type"
    r = await client.put(
        "/api/v1/agents/me/status",
        content='{"status": "available"}',
        headers={**world.auth("operator"), "Content-Type": content_type},
    )
    _assert_problem(r, 415)


async def test_json_body_without_content_type_is_415(client, world):
    r = await client.post(
        "/api/v1/cases",
        content=b'{"description": "x"}',
        headers={**world.auth("operator"), "Content-Type": ""},
    )
    _assert_problem(r, 415)


async def test_real_server_answers_an_anonymous_upload_with_401_and_stores_nothing(serve, tmp_path):
    """Through uvicorn on loopback: the 401 reaches the client, nothing lands under var/."""
    base = serve()
    var = tmp_path / "var"
    before = _files_under(var)
    body = Body(100 * MIB, head=b'--b\r\nContent-Disposition: form-data; name="file"\r\n\r\n')
    async with httpx.AsyncClient(base_url=base, timeout=60) as c:
        r = await c.post(
            "/api/v1/cases/HL-1/attachments",
            content=body.stream(),
            headers={"Content-Type": "multipart/form-data; boundary=b"},
        )
    _assert_problem(r, 401)
    assert _files_under(var) == before


def _english(template: str, **values: str) -> str:
    from hotline.web.i18n import catalogue

    english = catalogue("en")[template]
    return english.format(**values) if values else english


@pytest.mark.parametrize("lang", ["vi", "en"])
async def test_the_guards_refusals_speak_the_language_of_the_lang_cookie(app, client, world, lang):
    """401, 403, 413 and 415 from the guard say what the rest of the API says: English
    when the user chose it, Vietnamese otherwise; the browser's Accept-Language does not
    choose (web/i18n.py)."""
    from tests.admin.helpers import page_client

    en = lang == "en"

    def said(template: str, **values: str) -> str:
        return _english(template, **values) if en else template.format(**values)

    client.cookies.set("lang", lang)
    english_browser = {"Accept-Language": "en-US,en;q=0.9"}
    r = await client.post("/api/v1/contacts", json={}, headers=english_browser)
    problem = _assert_problem(r, 401)
    assert problem["detail"] == said("Cần đăng nhập hoặc mã truy cập (Authorization: Bearer …)")
    assert problem["title"] == said("Chưa đăng nhập")

    r = await client.post(
        "/api/v1/cases",
        content=b"{" + b" " * MIB,
        headers={**world.auth("operator"), "Content-Type": "application/json"},
    )
    problem = _assert_problem(r, 413)
    assert problem["title"] == said("Nội dung quá lớn")
    assert problem["errors"] == [
        {"field": "body", "message": said("Nội dung yêu cầu vượt quá {size}", size="1 MB")}
    ]

    r = await client.post(
        "/api/v1/cases",
        content=b"description=x",
        headers={**world.auth("operator"), "Content-Type": "text/plain"},
    )
    problem = _assert_problem(r, 415)
    assert problem["detail"] == said("Nội dung phải gửi dạng {wanted}", wanted="application/json")
    r = await client.post(
        "/login", content=b"{}", headers={"Content-Type": "application/json", **english_browser}
    )
    wanted = "application/x-www-form-urlencoded {} multipart/form-data".format(
        "or" if en else "hoặc"
    )
    assert _assert_problem(r, 415)["detail"] == said(
        "Nội dung phải gửi dạng {wanted}", wanted=wanted
    )

    operator = await page_client(app, "operator")
    operator.cookies.set("lang", lang)
    r = await operator.post("/api/v1/cases", json=new_case_body(), headers=english_browser)
    problem = _assert_problem(r, 403)
    assert problem["field"] == "X-CSRF-Token"
    assert problem["detail"] == said(
        "Thiếu hoặc sai mã chống giả mạo (X-CSRF-Token) của phiên đăng nhập"
    )


async def test_without_a_cookie_the_guard_refuses_in_vietnamese_whatever_the_browser_asks(client):
    r = await client.post(
        "/api/v1/contacts", json={}, headers={"Accept-Language": "en-US,en;q=0.9"}
    )
    assert _assert_problem(r, 401)["title"] == "Chưa đăng nhập"


@pytest.mark.parametrize("lang", ["vi", "en"])
async def test_a_browsers_form_post_over_the_cap_gets_the_refusal_page_in_its_language(
    client, lang
):
    """A form a browser posts (it asks for text/html) is answered with the refusal page,
    not JSON; a script's post (no text/html) keeps problem+json."""
    client.cookies.set("lang", lang)
    body = Body(2 * MIB, head=b"description=")
    r = await client.post(
        "/phan-anh",
        content=body.stream(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Content-Length": str(body.size),
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        },
    )
    assert r.status_code == 413 and r.headers["content-type"].startswith("text/html")
    assert body.pulled == 0
    reason = "Nội dung yêu cầu vượt quá {size}"
    if lang == "en":
        assert '<html lang="en">' in r.text
        assert _english("Nội dung quá lớn") in r.text
        assert _english(reason, size="1 MB").replace("'", "&#39;") in r.text
    else:
        assert "Nội dung quá lớn" in r.text and reason.format(size="1 MB") in r.text
