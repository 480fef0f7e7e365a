"""Triage model versions at /admin/triage: figures per version, training, activation."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from hotline.triage.models import TriageModel as TriageModelRow
from tests.admin.helpers import page_client, post_form

pytestmark = pytest.mark.anyio


async def _active(app) -> list[int]:
    async with app.state.hotline.unit_of_work() as session:
        rows = await session.scalars(select(TriageModelRow.version).where(TriageModelRow.active))
        return list(rows.all())


async def test_an_admin_trains_versions_compares_them_and_activates_one(app, world):
    admin = await page_client(app, "admin")
    empty = await admin.get("/admin/triage")
    assert empty.status_code == 200 and "Chưa có phiên bản nào" in empty.text
    for _ in range(2):
        r = await post_form(admin, "/admin/triage", "/admin/triage/train")
        assert r.status_code == 303, r.text
    page = await admin.get(r.headers["location"])
    assert "Đã huấn luyện phiên bản mới." in page.text
    row = re.search(r'<tr id="model-2">.*?</tr>', page.text, re.S)
    assert row and " · admin" in row.group(0)  # who trained it, and when
    assert re.search(r"<td>0\.\d{3}</td>", row.group(0))  # its held-out figures
    assert "So sánh F1 theo lĩnh vực" in page.text
    assert await _active(app) == [1]  # the first version ever is used at once
    r = await post_form(admin, "/admin/triage", "/admin/triage/2/activate")
    assert r.status_code == 303
    assert await _active(app) == [2]
    r = await post_form(admin, "/admin/triage", "/admin/triage/9/activate")
    assert r.status_code == 404 and "Không có phiên bản mô hình 9" in r.text


async def test_supervisors_see_the_versions_operators_nothing_and_neither_changes_them(app, world):
    operator = await page_client(app, "operator")
    r = await operator.get("/admin/triage")
    assert r.status_code == 403 and "Chỉ quản trị viên và trưởng ca xem được các mô hình" in r.text
    supervisor = await page_client(app, "supervisor")
    page = await supervisor.get("/admin/triage")
    assert page.status_code == 200
    assert "/admin/triage/train" not in page.text
    r = await post_form(supervisor, "/admin/triage", "/admin/triage/train")
    assert r.status_code == 403
    assert "Chỉ quản trị viên được huấn luyện hoặc chọn mô hình phân loại" in r.text
    async with app.state.hotline.unit_of_work() as session:
        assert (await session.scalars(select(TriageModelRow.id))).all() == []
