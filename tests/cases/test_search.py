"""Case search through GET /api/v1/cases?q=...: matching, order and paging.

On PostgreSQL list_cases first looks for a full page among the newest cases and falls
back to the full-text index; both paths must return exactly the same pages.
"""

from __future__ import annotations

import pytest

import hotline.cases.queries as queries
from tests.conftest import new_case_body

pytestmark = pytest.mark.anyio

TEXTS = [
    "Xin hỗ trợ gạo cho gia đình khó khăn",
    "Khu trọ bị phong tỏa, cần hỗ trợ thực phẩm",
    "Hỏi lịch tiêm vắc xin mũi 2",
    "Phản ánh tụ tập đông người",
]


async def _search(client, world, q: str, limit: int) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        params = {"q": q, "limit": limit} | ({"cursor": cursor} if cursor else {})
        r = await client.get("/api/v1/cases", params=params, headers=world.auth("operator"))
        assert r.status_code == 200, r.text
        body = r.json()
        pages.append([c["code"] for c in body["items"]])
        cursor = body.get("next_cursor")
        if not cursor:
            return pages


@pytest.mark.parametrize("probe_rows", [2, 5, 1000])
async def test_search_pages_do_not_depend_on_the_recent_probe(
    client, world, monkeypatch, probe_rows
):
    for i in range(12):
        body = new_case_body(description=f"{TEXTS[i % len(TEXTS)]} (#{i})")
        r = await client.post("/api/v1/cases", json=body, headers=world.auth("operator"))
        assert r.status_code == 201, r.text
    for q in ("hỗ trợ", "ho tro", "tiem vac", "gao", "khong co gi"):
        monkeypatch.setattr(queries, "SEARCH_PROBE_ROWS", 0)  # plain query only
        expected = await _search(client, world, q, limit=2)
        monkeypatch.setattr(queries, "SEARCH_PROBE_ROWS", probe_rows)
        assert await _search(client, world, q, limit=2) == expected, q
    found = [code for page in expected for code in page]
    assert found == []  # "khong co gi" matches nothing
    pages = await _search(client, world, "hỗ trợ", limit=2)
    assert sum(len(p) for p in pages) == 6  # 2 of every 4 cases say "hỗ trợ"
