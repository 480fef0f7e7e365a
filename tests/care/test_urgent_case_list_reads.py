"""An urgent case home care opened, read in full by those in charge anywhere but its own
page: in a list, a search, the console, a citizen's card, as a similar case, in a duplicate
cluster (the dashboard too), in its timeline's edits, as the words its guidance articles
were matched on. Each such read is logged with its path, like opening the case; a reader
given the neutral line is logged nowhere. Lists run in read-only transactions: the log is
written right after, before the answer leaves."""

from __future__ import annotations

from typing import Any

import pytest

from tests.care.test_urgent_case_edits import _edited_by_the_supervisor
from tests.care.test_urgent_case_privacy import _reads, _urgent_case
from tests.conftest import new_case_body

pytestmark = pytest.mark.anyio

ALIKE = "Dấu hiệu cảnh báo: thở nhanh, SpO2 thấp. SpO2 93%, nhịp thở 26/phút"


async def _logged(app: Any, code: str, who: str) -> set[str]:
    return {purpose for user, purpose in await _reads(app, code) if user == who}


async def test_case_lists_showing_the_medical_text_log_each_read(app, client, world, signed_in):
    code, _ = await _urgent_case(client, world)
    supervisor = world.auth("supervisor")
    listed = await client.get("/api/v1/cases", headers=supervisor)
    assert listed.status_code == 200 and "SpO2 93%" in listed.text
    assert await _logged(app, code, "supervisor") == {"care_case_list"}
    found = await client.get("/api/v1/cases", params={"q": "SpO2"}, headers=world.auth("admin"))
    assert code in found.text and "SpO2 93%" in found.text
    assert await _logged(app, code, "admin") == {"care_case_list"}
    async with signed_in("supervisor") as c:
        console = await c.get("/console/cases", params={"view": "all"})
        assert console.status_code == 200 and "SpO2 93%" in console.text
    assert "care_console" in await _logged(app, code, "supervisor")
    # The operator who reads the neutral line in the same lists left no read of it.
    operator = world.auth("operator")
    assert (await client.get("/api/v1/cases", headers=operator)).status_code == 200
    async with signed_in("operator") as c:
        assert (await c.get("/console/cases", params={"view": "all"})).status_code == 200
    assert await _logged(app, code, "operator") == set()


async def test_similar_cases_and_clusters_showing_the_medical_text_log_each_read(
    app, client, world, signed_in
):
    code, _ = await _urgent_case(client, world)
    supervisor = world.auth("supervisor")
    similar = await client.post(
        "/api/v1/cases/duplicates/suggest",
        json={"text": ALIKE, "ward_code": "00004"},
        headers=supervisor,
    )
    assert similar.status_code == 200 and "SpO2 93%" in similar.text
    assert await _logged(app, code, "supervisor") == {"care_case_similar"}
    # A second report of the same words in the ward: the two make a cluster.
    r = await client.post(
        "/api/v1/cases",
        json=new_case_body(description=ALIKE, ward_code="00004"),
        headers=supervisor,
    )
    assert r.status_code == 201, r.text
    other = r.json()["code"]
    alike = await client.get(f"/api/v1/cases/{other}/duplicates", headers=world.auth("admin"))
    assert code in alike.text and "SpO2 93%" in alike.text
    assert await _logged(app, code, "admin") == {"care_case_similar"}
    clusters = await client.get("/api/v1/duplicates/clusters", headers=supervisor)
    assert code in clusters.text and "SpO2 93%" in clusters.text
    assert "care_case_cluster" in await _logged(app, code, "supervisor")
    async with signed_in("admin") as c:
        dashboard = await c.get("/dashboard")
        assert dashboard.status_code == 200 and "SpO2 93%" in dashboard.text
    assert "care_case_cluster" in await _logged(app, code, "admin")
    operator = world.auth("operator")
    r = await client.get(f"/api/v1/cases/{other}/duplicates", headers=operator)
    assert r.status_code == 200 and "SpO2 93%" not in r.text
    assert await _logged(app, code, "operator") == set()


async def test_the_timeline_showing_an_edits_medical_values_logs_the_read(app, client, world):
    code, _ = await _urgent_case(client, world)
    await _edited_by_the_supervisor(client, world, code)
    r = await client.get(f"/api/v1/cases/{code}/events", headers=world.auth("admin"))
    assert r.status_code == 200 and "SpO2 91%" in r.text
    assert await _logged(app, code, "admin") == {"care_case_timeline"}
    r = await client.get(f"/api/v1/cases/{code}/events", headers=world.auth("operator"))
    assert r.status_code == 200 and "SpO2 91%" not in r.text
    assert await _logged(app, code, "operator") == set()


async def test_a_citizens_card_listing_their_urgent_case_logs_its_read(app, client, world):
    code, patient = await _urgent_case(client, world)
    r = await client.get(f"/api/v1/contacts/{patient['contact_id']}", headers=world.auth("admin"))
    assert r.status_code == 200 and "SpO2 93%" in r.text
    assert "care_case_list" in await _logged(app, code, "admin")
