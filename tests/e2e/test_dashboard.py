"""The supervisors' dashboard in a real browser: the counters follow the event stream."""

from __future__ import annotations

import httpx
import pytest

from hotline.db import create_engine, make_sessionmaker
from hotline.site import Site
from tests.conftest import new_case_body
from tests.e2e.test_csp import _watch
from tests.e2e.test_pages import SCREENSHOTS


async def _seed(settings) -> None:  # type: ignore[no-untyped-def]
    from hotline.auth.service import create_user

    engine = create_engine(settings.effective_database_url)
    async with make_sessionmaker(engine, Site.from_settings(settings))() as s, s.begin():
        await create_user(
            s,
            username="truongca",
            password="truongca-1022",
            role="supervisor",
            full_name="Trưởng ca",
        )
        await create_user(s, username="dtv02", password="dtv02-1022", role="operator")
    await engine.dispose()


@pytest.mark.e2e
def test_a_case_created_through_the_api_changes_the_counter_without_reload(  # type: ignore[no-untyped-def]
    live_server, browser, settings
):
    live_server.run(_seed(settings))
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    errors, outside = _watch(page, live_server)
    page.goto(live_server.url + "/login")
    page.fill("#username", "truongca")
    page.fill("#password", "truongca-1022")
    page.click("button[type=submit]")
    page.goto(live_server.url + "/dashboard")
    received = page.locator('[data-figure="received"] b')
    assert received.inner_text() == "0"
    page.wait_for_selector("#stream-state:has-text('Đang cập nhật trực tiếp')")
    # A marker that a reload would lose: the counter must change in this same document.
    page.evaluate("document.body.dataset.marker = 'same-page'")

    with httpx.Client(base_url=live_server.url) as api:
        token = api.post(
            "/api/v1/auth/token", data={"username": "dtv02", "password": "dtv02-1022"}
        ).json()["access_token"]
        r = api.post(
            "/api/v1/cases",
            json=new_case_body(urgent=True),
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 201, r.text

    page.wait_for_selector('[data-figure="received"] b:text-is("1")', timeout=15000)
    assert page.locator('[data-figure="urgent"] b').inner_text() == "1"
    assert page.evaluate("document.body.dataset.marker") == "same-page"
    if SCREENSHOTS:
        page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)
    assert errors == [] and outside == []
