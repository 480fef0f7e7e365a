"""The portal's refusals in the page's language, next to their field, the files a report
did not take named on the answer page, and the site's icon."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.portal.test_portal import csrf_of, report, send, tiny_png

pytestmark = pytest.mark.anyio


async def test_validation_errors_follow_the_pages_language(client: httpx.AsyncClient) -> None:
    client.cookies.set("lang", "en")
    page = await client.get("/phan-anh")
    typed = report(description="Ngắn", ward_code="", phone="0912-abc")
    r = await client.post("/phan-anh", data=typed | {"csrf": csrf_of(page.text)})
    assert r.status_code == 422
    assert 'id="description-error">Please describe what happened (at least 10 characters).' in (
        r.text
    )
    assert 'id="ward_code-error">Please choose the ward' in r.text
    assert 'id="phone-error">Invalid phone number' in r.text
    # The app's script gets them in English too.
    r = await client.post(
        "/phan-anh",
        data=typed | {"csrf": csrf_of(page.text)},
        headers={"Accept": "application/json"},
    )
    errors = r.json()["errors"]
    assert errors["description"].startswith("Please describe") and "Vui lòng" not in r.text
    client.cookies.delete("lang")
    r = await client.post(
        "/phan-anh",
        data=typed | {"csrf": csrf_of(page.text)},
        headers={"Accept": "application/json"},
    )
    assert r.json()["errors"]["description"].startswith("Vui lòng mô tả sự việc")


async def test_a_nul_in_the_description_is_named_for_the_script(client: httpx.AsyncClient) -> None:
    page = await client.get("/phan-anh")
    client.cookies.set("lang", "en")
    r = await client.post(
        "/phan-anh",
        data=report(description="Cống bị tắc\x00 hai ngày nay") | {"csrf": csrf_of(page.text)},
        headers={"Accept": "application/json"},
    )
    assert r.status_code == 422
    # By field, as every mistake of the form: portal.js puts it next to the field it names.
    assert r.json()["errors"]["description"].startswith("Must not contain the NUL character")
    # Without the script: the form again, the text kept without its NUL, the reason beside it.
    r = await client.post(
        "/phan-anh",
        data=report(description="Cống bị tắc\x00 hai ngày nay") | {"csrf": csrf_of(page.text)},
    )
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    assert 'id="description-error">This held a NUL character' in r.text
    assert ">Cống bị tắc hai ngày nay</textarea>" in r.text


async def test_the_answer_page_names_a_refused_file_and_why(client: httpx.AsyncClient) -> None:
    sent = await send(client)
    token = csrf_of((await client.get("/phan-anh")).text)
    url = f"/phan-anh/{sent['code']}/tep"
    form = {"secret": sent["secret"], "csrf": token}
    ok = await client.post(url, data=form, files={"file": ("anh.jpg", tiny_png(), "image/png")})
    assert ok.status_code == 201
    fake = {"file": ("fake.jpg", b"chi la chu thoi " * 20, "image/jpeg")}
    refused = await client.post(url, data=form, files=fake)
    assert refused.status_code == 415
    page = await client.get("/phan-anh/da-gui")
    box = re.search(r'id="refused-[^"]+">(.*?)</div>', page.text, re.S)
    assert box, page.text
    assert "<b>fake.jpg</b>: Chỉ nhận ảnh, video" in box.group(1)
    assert "anh.jpg" not in box.group(1)


async def test_the_site_has_a_cached_favicon(client: httpx.AsyncClient) -> None:
    r = await client.get("/favicon.ico")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.content.startswith(b"\x89PNG")
    assert r.headers["cache-control"] == "public, max-age=86400"


async def test_the_category_is_named_in_the_pages_language(client: httpx.AsyncClient) -> None:
    """The form, tracking and the public list: the category's English name in English."""
    sent = await send(client, category="ho_tro_kho_khan")
    pages = {}
    for lang in ("vi", "en"):
        client.cookies.set("lang", lang)
        tracked = await client.post(
            "/tra-cuu",
            data={
                "code": sent["code"],
                "secret": sent["secret"],
                "csrf": csrf_of((await client.get("/tra-cuu")).text),
            },
        )
        assert tracked.status_code == 200, tracked.text
        form = (await client.get("/phan-anh")).text
        listed = (await client.get("/phan-anh/cong-khai")).text
        pages[lang] = (tracked.text, form, listed)
    for page in pages["en"]:
        assert "Hardship support" in page and "Hỗ trợ khó khăn" not in page
    for page in pages["vi"]:
        assert "Hỗ trợ khó khăn" in page and "Hardship support" not in page
