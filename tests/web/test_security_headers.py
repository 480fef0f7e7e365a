"""Security headers on every response; pages without inline script; the API docs offline."""

from __future__ import annotations

import re

import httpx
import pytest

from hotline.app import create_app
from tests.conftest import new_case_body

pytestmark = pytest.mark.anyio

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|\sstyle\s*=|<style", re.I)


def assert_secured(r: httpx.Response) -> None:
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"


async def test_every_kind_of_response_carries_the_security_headers(client, world):
    staff = world.auth("operator")
    code = (await client.post("/api/v1/cases", json=new_case_body(), headers=staff)).json()["code"]
    for r in (
        await client.get("/login"),
        await client.get("/faq"),
        await client.get("/api/v1/docs"),
        await client.get("/api/v1/openapi.json"),
        await client.get("/healthz"),
        await client.get(f"/api/v1/cases/{code}", headers=staff),
        await client.get("/api/v1/cases/XXXX-XXXX", headers=staff),  # a problem+json 404
        await client.get("/api/v1/cases"),  # 401
        await client.get("/static/site.css"),
    ):
        assert_secured(r)
        assert "strict-transport-security" not in r.headers  # plain http, development
    detail = await client.get(f"/api/v1/cases/{code}", headers=staff)
    assert detail.headers["cache-control"] == "no-store"
    assert "no-store" not in (await client.get("/static/site.css")).headers.get("cache-control", "")


async def test_hsts_over_https_and_in_production(app, settings):
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://test"
    ) as https:
        r = await https.get("/login")
        assert r.headers["strict-transport-security"].startswith("max-age=")
    production = settings.model_copy(update={"environment": "production", "secret_key": "k" * 48})
    try:
        prod = create_app(production)
    except Exception as exc:  # production refuses other unsafe settings: not this test's
        pytest.skip(f"production settings refused here: {exc}")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=prod), base_url="http://test"
    ) as plain:
        assert (await plain.get("/healthz")).headers["strict-transport-security"]
    await prod.state.hotline.close()


async def test_pages_have_no_inline_script_or_style(client, world):
    from tests.auth.test_auth import _csrf_of
    from tests.conftest import PASSWORD

    pages = [await client.get("/login"), await client.get("/faq"), await client.get("/api/v1/docs")]
    login = pages[0]
    await client.post(
        "/login", data={"username": "operator", "password": PASSWORD, "csrf": _csrf_of(login.text)}
    )
    pages.append(await client.get("/"))
    for page in pages:
        assert page.status_code == 200, page.url
        assert not INLINE_SCRIPT.findall(page.text), (page.url, INLINE_SCRIPT.findall(page.text))


async def test_api_docs_use_the_packaged_swagger_ui(client):
    docs = await client.get("/api/v1/docs")
    assets = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert assets and all(a.startswith("/static/") for a in assets), assets
    for asset in assets:
        r = await client.get(asset)
        assert r.status_code == 200, asset
    licence = await client.get("/static/swagger-ui/LICENSE")
    assert "Apache License" in licence.text
