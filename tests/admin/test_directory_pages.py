"""Categories (deadline hours, in use) and the tree of units at /admin/categories and
/admin/units, and the directory services behind them."""

from __future__ import annotations

import re

import pytest

from hotline.auth.models import Role
from hotline.auth.service import Actor
from hotline.directory import manage
from hotline.directory import service as directory
from hotline.directory.models import Category
from hotline.errors import NotAllowed
from tests.admin.helpers import page_client, post_form

pytestmark = pytest.mark.anyio

OPERATOR = Actor(user_id=None, username="op", role=Role.OPERATOR)
SUPERVISOR = Actor(user_id=None, username="sup", role=Role.SUPERVISOR)
ADMIN = Actor(user_id=None, username="root", role=Role.ADMIN)


async def test_the_unit_tree_nests_units_with_their_wards_and_categories(app, world):
    async with app.state.hotline.unit_of_work() as session:
        parent = await directory.get_unit(session, world.units["ward_a"])
        child = await manage.add_unit(
            session,
            actor=ADMIN,
            code="TO-01",
            name="Tổ dân phố 1",
            unit_type="ward_committee",
            parent_id=parent.id,
            ward_codes=["00004"],
            categories=["khac"],
        )
        for actor in (OPERATOR, SUPERVISOR):
            with pytest.raises(NotAllowed):
                await manage.unit_tree(session, actor=actor)
        roots = await manage.unit_tree(session, actor=ADMIN)
    by_code = {n.unit.code: n for n in roots}
    assert "TO-01" not in by_code  # under its parent, not a root
    node = by_code["UB-00004"]
    assert [c.unit.id for c in node.children] == [child.id]
    assert node.wards == [("00004", "Phường Ba Đình")]
    assert node.categories == ["ho_tro_kho_khan", "phan_anh_vi_pham"]
    assert node.children[0].categories == ["khac"]


async def test_categories_to_manage_include_inactive_ones_for_administrators_only(app, world):
    async with app.state.hotline.unit_of_work() as session:
        await manage.update_category(session, actor=ADMIN, code="khac", active=False)
        with pytest.raises(NotAllowed):
            await manage.categories_to_manage(session, actor=SUPERVISOR)
        codes = [c.code for c in await manage.categories_to_manage(session, actor=ADMIN)]
    assert "khac" in codes
    async with app.state.hotline.unit_of_work() as session:
        assert "khac" not in [c.code for c in await directory.list_categories(session)]


async def test_only_administrators_open_the_directory_pages(app, world):
    supervisor = await page_client(app, "supervisor")
    for path in ("/admin/categories", "/admin/units"):
        r = await supervisor.get(path)
        assert r.status_code == 403, path
        assert "Chỉ quản trị viên được sửa lĩnh vực và đơn vị" in r.text
    r = await post_form(
        supervisor, "/admin/users", "/admin/categories/khac", forward_hours="5", active="1"
    )
    assert r.status_code == 403
    async with app.state.hotline.unit_of_work() as session:
        category = await session.get(Category, "khac")
        assert category is not None and category.forward_hours != 5
    admin = await page_client(app, "admin")
    tree = await admin.get("/admin/units")
    assert tree.status_code == 200
    branch = re.search(r'id="unit-UB-00004".*?</li>', tree.text, re.S)
    assert branch
    assert "Phường Ba Đình" in branch.group(0) and "Hỗ trợ" in branch.group(0)


async def test_an_admin_changes_a_categorys_deadline_and_takes_it_out_of_use(app, world):
    admin = await page_client(app, "admin")
    r = await post_form(
        admin, "/admin/categories", "/admin/categories/khac", forward_hours="36", active=""
    )
    assert r.status_code == 303
    page = await admin.get(r.headers["location"])
    assert "Đã lưu lĩnh vực." in page.text
    row = re.search(r'<tr id="cat-khac" class="inactive">.*?</tr>', page.text, re.S)
    assert row and 'value="36"' in row.group(0) and "checked" not in row.group(0)
    async with app.state.hotline.unit_of_work() as session:
        category = await session.get(Category, "khac")
        assert category is not None and category.forward_hours == 36 and not category.active


async def test_a_bad_deadline_is_explained_in_its_row_with_what_was_typed(app, world):
    admin = await page_client(app, "admin")
    for typed, message in (("ba", "Thời hạn là số giờ"), ("0", "Thời hạn phải từ 1 giờ trở lên")):
        r = await post_form(
            admin, "/admin/categories", "/admin/categories/khac", forward_hours=typed, active="1"
        )
        assert r.status_code in (400, 422)
        row = re.search(r'<tr id="cat-khac".*?</tr>', r.text, re.S)
        assert row and f'value="{typed}"' in row.group(0)
        assert f'id="forward_hours-error" role="alert">{message}<' in row.group(0)
    async with app.state.hotline.unit_of_work() as session:
        category = await session.get(Category, "khac")
        assert category is not None and category.forward_hours != 0
