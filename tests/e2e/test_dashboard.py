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


async def _line_queue(settings, waiting: int, seconds_ago: int) -> None:  # type: ignore[no-untyped-def]
    """What a phone line instance publishes when callers wait (telephony/queue_events.py)."""
    from datetime import timedelta

    from hotline.db import utcnow
    from hotline.events import committed, record_event
    from hotline.telephony.queue_events import queue_event

    engine = create_engine(settings.effective_database_url)
    queues = {"operator": (waiting, utcnow() - timedelta(seconds=seconds_ago))} if waiting else {}
    async with committed(make_sessionmaker(engine, Site.from_settings(settings)), None) as s:
        record_event(s, queue_event("line-1", queues, 5.0))
    await engine.dispose()


@pytest.mark.e2e
def test_the_charts_and_the_callers_waiting_follow_without_reload(  # type: ignore[no-untyped-def]
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
    page.wait_for_selector("#stream-state:has-text('Đang cập nhật trực tiếp')")
    page.evaluate("document.body.dataset.marker = 'same-page'")
    assert page.locator("#charts a[href*='channel=zalo']").count() == 0
    assert page.locator('[data-figure="line_waiting"] b').inner_text() == "0"
    assert page.locator('[data-figure="line_longest"] b').inner_text() == "–"

    with httpx.Client(base_url=live_server.url) as api:
        token = api.post(
            "/api/v1/auth/token", data={"username": "dtv02", "password": "dtv02-1022"}
        ).json()["access_token"]
        r = api.post(
            "/api/v1/cases",
            json=new_case_body(channel="zalo"),
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 201, r.text
    # The channel chart gains its bar, linking to the list behind it, in the same page.
    bar = page.locator("#charts a[href*='channel=zalo']")
    bar.wait_for(timeout=15000)
    assert bar.get_attribute("data-count") == "1"
    assert page.locator("#charts a[data-hour][data-count='1']").count() == 1

    # Two callers on hold in the line: the wallboard says so and the wait ticks.
    live_server.run(_line_queue(settings, 2, 65))
    page.wait_for_selector('[data-figure="line_waiting"] b:text-is("2")', timeout=15000)
    longest = page.locator('[data-figure="line_longest"] b')
    first = longest.inner_text()
    assert first.startswith("1:0"), first
    page.wait_for_function(
        "(t) => document.querySelector('[data-figure=\"line_longest\"] b').textContent !== t",
        arg=first,
        timeout=5000,
    )
    live_server.run(_line_queue(settings, 0, 0))
    page.wait_for_selector('[data-figure="line_waiting"] b:text-is("0")', timeout=15000)
    assert longest.inner_text() == "–"
    assert page.evaluate("document.body.dataset.marker") == "same-page"
    assert errors == [] and outside == []
