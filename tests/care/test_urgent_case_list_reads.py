"""An urgent case home care opened, read in full by those in charge anywhere but its own
page: in a list, a search, the console, a citizen's card, as a similar case, in a duplicate
cluster (the dashboard too), in its timeline's edits, as the words its guidance articles
were matched on. Each such read is logged with its path, like opening the case; a reader
given the neutral line is logged nowhere. Lists run in read-only transactions: the log is
written right after, before the answer leaves."""

from __future__ import annotations

from typing import Any

import pytest

from tests.attachments.test_attachments import make_png
from tests.care.helpers import officer_115
from tests.care.test_urgent_case_edits import RETOLD, _edited_by_the_supervisor
from tests.care.test_urgent_case_privacy import HOME, NEUTRAL, _reads, _urgent_case
from tests.cases.test_pages import post_action
from tests.conftest import new_case_body
from tests.knowledge.helpers import published
from tests.web.test_personal_reads import CARE_CASE_READS

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


async def test_a_returned_urgent_case_is_taken_from_its_neutral_line_on_the_page(
    app, client, world, signed_in
):
    """Returned by the 115 unit, nobody holds it: every operator reads the neutral line and
    is offered to take it; the one who takes it reads it all, logged."""
    code, _ = await _urgent_case(client, world)
    unit = await officer_115(app, client)
    r = await client.post(f"/api/v1/cases/{code}/return", json={"reason": "Hết xe"}, headers=unit)
    assert r.status_code == 200, r.text
    async with signed_in("operator") as c:
        console = await c.get("/console/cases", params={"view": "all"})
        assert code in console.text and NEUTRAL in console.text
        page = await c.get(f"/cases/{code}")
        assert NEUTRAL in page.text and "SpO2 93%" not in page.text
        assert f'action="/cases/{code}/act/take"' in page.text
        # The reporter's name and number are read (`case_page`), the medical text is not.
        assert await _logged(app, code, "operator") == {"case_page"}
        taken = await post_action(c, code, "take", page.text)
        assert taken.status_code in (200, 303), taken.text
        page = await c.get(f"/cases/{code}")
        assert "SpO2 93%" in page.text and HOME in page.text and NEUTRAL not in page.text
    assert "care_case" in await _logged(app, code, "operator")


async def _count(app: Any, code: str, who: str, purpose: str) -> int:
    return sum(1 for user, p in await _reads(app, code) if (user, p) == (who, purpose))


async def test_every_route_in_the_table_logs_a_care_cases_full_read(app, client, world, signed_in):
    """Each route of CARE_CASE_READS that reads (the actions aside: test_urgent_case_privacy
    takes one), called by someone in charge, adds a read under its purpose."""
    await published(
        client,
        world,
        question="SpO2 dưới 94%, nhịp thở nhanh: người bệnh F0 cần làm gì?",
        answer="Gọi 115 ngay; trong lúc chờ, cho người bệnh nằm sấp và theo dõi SpO2.",
    )
    code, patient = await _urgent_case(client, world)
    unit = await officer_115(app, client)
    await _edited_by_the_supervisor(client, world, code)
    note = {"text": "SpO2 92% khi gọi lại"}
    r = await client.post(f"/api/v1/cases/{code}/notes", json=note, headers=world.auth("admin"))
    assert r.status_code == 201, r.text
    png = {"file": ("spo2-92.png", make_png(), "image/png")}
    r = await client.post(f"/api/v1/cases/{code}/attachments", files=png, headers=unit)
    assert r.status_code == 201, r.text
    file_id = r.json()["id"]
    twin = new_case_body(description=RETOLD, ward_code="00004")
    r = await client.post("/api/v1/cases", json=twin, headers=world.auth("supervisor"))
    other = r.json()["code"]
    api: dict[tuple[str, str], tuple[str, str, str, dict[str, Any] | None]] = {
        ("GET", "/api/v1/cases/{code}"): ("dieuphoi115", "GET", f"/api/v1/cases/{code}", None),
        ("GET", "/api/v1/cases"): ("supervisor", "GET", "/api/v1/cases", None),
        ("GET", "/api/v1/contacts/{contact_id}"): (
            "admin", "GET", f"/api/v1/contacts/{patient['contact_id']}", None
        ),
        ("POST", "/api/v1/cases"): (
            "supervisor", "POST", "/api/v1/cases?suggest_duplicates=true", twin
        ),
        ("POST", "/api/v1/cases/duplicates/suggest"): (
            "supervisor",
            "POST",
            "/api/v1/cases/duplicates/suggest",
            {"text": RETOLD, "ward_code": "00004"},
        ),
        ("GET", "/api/v1/cases/{code}/duplicates"): (
            "supervisor", "GET", f"/api/v1/cases/{other}/duplicates", None
        ),
        ("GET", "/api/v1/duplicates/clusters"): (
            "admin", "GET", "/api/v1/duplicates/clusters", None
        ),
        ("GET", "/api/v1/cases/{code}/events"): (
            "dieuphoi115", "GET", f"/api/v1/cases/{code}/events", None
        ),
        ("GET", "/api/v1/cases/{code}/articles"): (
            "supervisor", "GET", f"/api/v1/cases/{code}/articles", None
        ),
        ("GET", "/api/v1/cases/{code}/attachments/{attachment_id}"): (
            "dieuphoi115", "GET", f"/api/v1/cases/{code}/attachments/{file_id}", None
        ),
    }  # fmt: skip
    pages = {
        ("GET", "/cases/{code}"): ("supervisor", f"/cases/{code}"),
        ("GET", "/console/cases"): ("supervisor", "/console/cases?view=all"),
        ("GET", "/inbox"): ("dieuphoi115", "/inbox"),
        ("GET", "/dashboard"): ("admin", "/dashboard"),
        # The timeline alone (the page's live refresh) shows the note.
        ("GET", "/cases/{code}/timeline"): ("admin", f"/cases/{code}/timeline"),
    }
    reading = {r: p for r, p in CARE_CASE_READS.items() if r[0] == "GET" or r in api}
    assert reading.keys() == api.keys() | pages.keys()
    for route, (who, method, url, body) in api.items():
        auth = unit if who == "dieuphoi115" else world.auth(who)
        before = await _count(app, code, who, reading[route])
        r = await client.request(method, url, json=body, headers=auth)
        assert r.status_code in (200, 201), (route, r.text)
        # The articles answer only the words matched in the text (test_urgent_case_edits).
        # The file is the file.
        assert "SpO2 9" in r.text or route[1].endswith(("/articles", "{attachment_id}")), route
        assert await _count(app, code, who, reading[route]) == before + 1, route
    for route, (who, url) in pages.items():
        before = await _count(app, code, who, reading[route])
        async with signed_in(who) as c:
            r = await c.get(url)
        assert r.status_code == 200 and "SpO2 9" in r.text, route
        assert await _count(app, code, who, reading[route]) == before + 1, route
