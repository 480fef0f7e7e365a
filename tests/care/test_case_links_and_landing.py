"""What the care pages show of cases (a doctor cannot open the urgent case: its code and
status as text; a supervisor a link), and where a care coordinator lands: the alerts, with
the patients waiting for a doctor counted on top."""

from __future__ import annotations

import re

import pytest

from tests.care.helpers import doctor_with_profile, register
from tests.care.test_pages import check_in

pytestmark = pytest.mark.anyio


async def test_a_doctor_sees_the_urgent_case_as_text_with_its_status_not_a_dead_link(
    client, world, signed_in
):
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    result = await check_in(client, world, patient, spo2=93, respiratory_rate=26)
    code = result["case_code"]
    assert code
    url = f"/care/patients/{patient['id']}"
    async with signed_in("doctor") as c:
        # The cases service refuses this doctor the case...
        assert (await c.get(f"/cases/{code}")).status_code == 404
        # ... so neither the patient page nor the alerts link to it.
        for path in (url, "/care/alerts"):
            page = await c.get(path)
            assert page.status_code == 200, page.text
            assert f'href="/cases/{code}"' not in page.text, path
            assert f'<code class="case-code">{code}</code>' in page.text, path
            assert 'data-case-status="forwarded">Đã chuyển đơn vị</span>' in page.text, path
        latest = re.search(r'<p id="latest-case"[^>]*>(.*?)</p>', (await c.get(url)).text, re.S)
        assert latest and code in latest.group(1) and "Đã chuyển đơn vị" in latest.group(1)
    async with signed_in("supervisor") as c:
        assert (await c.get(f"/cases/{code}")).status_code == 200
        for path in (url, "/care/alerts"):
            page = await c.get(path)
            assert f'<a href="/cases/{code}" class="case-link"><code>{code}</code></a>' in page.text
            assert 'data-case-status="forwarded"' in page.text


async def test_care_coordinators_land_on_the_alerts_and_doctors_on_their_worklist(
    client, world, signed_in
):
    await doctor_with_profile(client, world, capacity=1)
    await register(client, world, phone="0903000001")
    await register(client, world, phone="0903000002")  # nobody has room: waits
    for who in ("supervisor", "admin"):
        async with signed_in(who) as c:
            start = await c.get("/care", follow_redirects=False)
            assert start.status_code == 303 and start.headers["location"] == "/care/alerts"
            page = await c.get("/care/alerts")
            nav = page.text[page.text.index("<nav") : page.text.index("</nav>")]
            # The alerts first among the care links; no worklist link (they follow nobody).
            assert nav.index('href="/care/alerts"') < nav.index('href="/care/patients"')
            assert 'href="/care"' not in nav
            waiting = re.search(r'<p id="waiting"[^>]*>(.*?)</p>', page.text, re.S)
            assert waiting, page.text
            assert 'href="/care/patients?unassigned=1&amp;state=active"' in waiting.group(1)
            assert 'id="waiting-count">1<' in waiting.group(1)
    async with signed_in("doctor") as c:
        page = await c.get("/care", follow_redirects=False)
        assert page.status_code == 200 and 'href="/care">Theo dõi tại nhà</a>' in page.text
        alerts = await c.get("/care/alerts")
        assert 'id="waiting"' not in alerts.text
