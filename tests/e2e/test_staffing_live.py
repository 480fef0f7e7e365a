"""The staffing page's alerts are live: a shift lead watching it sees an unfilled shift
announced by the worker, and surge mode switched on elsewhere, without reloading (the
event stream, as the dashboard uses it)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from hotline.db import create_engine, make_sessionmaker
from hotline.site import Site
from tests.e2e.test_csp import _watch


async def _lead(settings) -> None:  # type: ignore[no-untyped-def]
    from hotline.auth.service import create_user

    engine = create_engine(settings.effective_database_url)
    async with make_sessionmaker(engine, Site.from_settings(settings))() as s, s.begin():
        await create_user(
            s, username="truongca", password="truongca-1022", role="supervisor",
            full_name="Nguyễn Thị Lan",
        )  # fmt: skip
    await engine.dispose()


async def _sweep(settings) -> None:  # type: ignore[no-untyped-def]
    """What the worker's unfilled-shift sweep does (staffing/jobs.py)."""
    from hotline.events import committed
    from hotline.staffing.jobs import alert_unfilled

    engine = create_engine(settings.effective_database_url)
    async with committed(make_sessionmaker(engine, Site.from_settings(settings)), None) as s:
        await alert_unfilled(s, ahead=timedelta(hours=24))
    await engine.dispose()


@pytest.mark.e2e
def test_an_unfilled_shift_and_surge_mode_appear_on_the_staffing_page_without_reload(  # type: ignore[no-untyped-def]
    live_server, browser, settings
):
    live_server.run(_lead(settings))
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    errors, outside = _watch(page, live_server)
    page.goto(live_server.url + "/login")
    page.fill("#username", "truongca")
    page.fill("#password", "truongca-1022")
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/")
    page.goto(live_server.url + "/staffing")
    assert page.locator("#unfilled tbody tr").count() == 0
    page.wait_for_selector("#staffing-live[data-state='online']", state="attached")
    # A marker that a reload would lose: the alerts must arrive in this same document.
    page.evaluate("document.body.dataset.marker = 'same-page'")

    live_server.run(_sweep(settings))
    page.wait_for_selector("#unfilled tbody tr", timeout=15000)
    assert "0 / 6" in page.inner_text("#unfilled")
    assert page.inner_text("#staffing-live") == "Cảnh báo mới đã được cập nhật."

    with httpx.Client(base_url=live_server.url) as api:
        token = api.post(
            "/api/v1/auth/token", data={"username": "truongca", "password": "truongca-1022"}
        ).json()["access_token"]
        r = api.put(
            "/api/v1/surge",
            json={"active": True, "reason": "Tin nóng trên truyền hình"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 200, r.text
    page.wait_for_selector("#surge-state:text-is('Đang quá tải')", timeout=15000)
    assert "Tin nóng trên truyền hình" in page.inner_text("#surge-history")
    assert page.evaluate("document.body.dataset.marker") == "same-page"
    assert errors == [] and outside == []
