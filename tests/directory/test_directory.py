"""Places, categories and units, and the routing suggestion "category + ward → units"."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from hotline.directory.models import Province, Ward

pytestmark = pytest.mark.anyio

# The default categories and headline groups (docs/domain.md).
DOMAIN_CODES = {
    "cap_cuu",
    "ho_tro_kho_khan",
    "bao_cao_ca_benh",
    "tu_van_suc_khoe",
    "phan_anh_vi_pham",
    "co_so_cach_ly",
    "chinh_sach_ho_tro",
    "tiem_vac_xin",
    "di_lai_giay_to",
    "xet_nghiem",
    "an_ninh_trat_tu",
    "thong_tin_chi_dao",
    "khac",
}


async def test_all_34_provinces_and_3321_wards_are_loaded(client, world, app):
    async with app.state.hotline.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Province)) == 34
        assert await session.scalar(select(func.count()).select_from(Ward)) == 3321
    r = await client.get("/api/v1/places/provinces", headers=world.auth("operator"))
    assert r.status_code == 200
    provinces = r.json()
    assert len(provinces) == 34
    assert {"code": "01", "name": "Thành phố Hà Nội"}.items() <= next(
        p for p in provinces if p["code"] == "01"
    ).items()


async def test_ward_search_ignores_diacritics_and_case(client, world):
    r = await client.get(
        "/api/v1/places/wards", params={"q": "ba dinh"}, headers=world.auth("operator")
    )
    assert r.status_code == 200
    found = {(w["code"], w["name"], w["province_code"]) for w in r.json()}
    assert ("00004", "Phường Ba Đình", "01") in found
    r = await client.get(
        "/api/v1/places/wards",
        params={"q": "BA ĐÌNH", "province": "01"},
        headers=world.auth("operator"),
    )
    assert [w["code"] for w in r.json()] == ["00004"]


@pytest.mark.parametrize("q", ["_", "ba_dinh"])
async def test_ward_search_treats_like_wildcards_as_plain_text(client, world, q):
    r = await client.get("/api/v1/places/wards", params={"q": q}, headers=world.auth("operator"))
    assert r.status_code == 200
    assert r.json() == []


async def test_thirteen_default_categories_with_the_domain_codes_and_groups(client, world):
    r = await client.get("/api/v1/categories", headers=world.auth("operator"))
    assert r.status_code == 200
    cats = {c["code"]: c for c in r.json()}
    assert set(cats) == DOMAIN_CODES
    assert len(r.json()) == 13
    groups = {code: c["group"] for code, c in cats.items()}
    assert groups.pop("ho_tro_kho_khan") == "hardship"
    assert groups.pop("cap_cuu") == "emergency"
    assert set(groups.values()) == {"other"}
    assert cats["cap_cuu"]["name_vi"] == "Cấp cứu"


async def test_admin_edits_category_names_and_hours(client, world):
    r = await client.patch(
        "/api/v1/categories/xet_nghiem",
        json={"name_vi": "Xét nghiệm COVID-19", "name_en": "COVID-19 testing", "forward_hours": 6},
        headers=world.auth("admin"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["forward_hours"] == 6
    listed = await client.get("/api/v1/categories", headers=world.auth("operator"))
    cat = next(c for c in listed.json() if c["code"] == "xet_nghiem")
    assert (cat["name_vi"], cat["name_en"], cat["forward_hours"]) == (
        "Xét nghiệm COVID-19",
        "COVID-19 testing",
        6,
    )


@pytest.mark.parametrize("who", ["supervisor", "operator", "officer", "doctor"])
async def test_non_admin_cannot_edit_categories(client, world, who):
    r = await client.patch(
        "/api/v1/categories/xet_nghiem", json={"name_vi": "X"}, headers=world.auth(who)
    )
    assert r.status_code == 403
    listed = await client.get("/api/v1/categories", headers=world.auth("operator"))
    assert next(c for c in listed.json() if c["code"] == "xet_nghiem")["name_vi"] == "Xét nghiệm"


@pytest.mark.parametrize(
    ("patch", "field"),
    [({"forward_hours": 0}, "forward_hours"), ({"group": "urgent"}, "group")],
)
async def test_invalid_category_edit_is_422_naming_the_field(client, world, patch, field):
    r = await client.patch("/api/v1/categories/xet_nghiem", json=patch, headers=world.auth("admin"))
    assert r.status_code == 422
    assert r.json()["field"] == field


async def test_suggest_puts_ward_committee_first_then_province_units(client, world):
    r = await client.get(
        "/api/v1/units/suggest",
        params={"category": "ho_tro_kho_khan", "ward": "00004"},
        headers=world.auth("operator"),
    )
    assert r.status_code == 200, r.text
    units = r.json()
    assert units[0]["id"] == world.units["ward_a"]
    assert world.units["ward_b"] not in [u["id"] for u in units]
    rest = units[1:]
    assert rest, "the province-wide labour department handles hardship too"
    assert all(u["province_code"] == "01" for u in rest)
    assert "01-SLDTBXH" in [u["code"] for u in rest]


async def test_suggest_with_unknown_category_is_422_on_category(client, world):
    r = await client.get(
        "/api/v1/units/suggest",
        params={"category": "khong_co", "ward": "00004"},
        headers=world.auth("operator"),
    )
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == "category"


async def test_suggest_with_unknown_ward_is_422_naming_the_ward_parameter(client, world):
    r = await client.get(
        "/api/v1/units/suggest",
        params={"category": "ho_tro_kho_khan", "ward": "99999"},
        headers=world.auth("operator"),
    )
    assert r.status_code == 422
    assert r.json()["field"] == "ward"


def _unit_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "code": "UB-00008-YT",
        "name": "Trạm Y tế Phường Ngọc Hà",
        "type": "ward_health_station",
        "ward_codes": ["00008"],
        "categories": ["bao_cao_ca_benh"],
    }
    body.update(overrides)
    return body


async def _unit_codes(client: Any, world: Any) -> list[str]:
    r = await client.get("/api/v1/units", headers=world.auth("admin"))
    return [u["code"] for u in r.json()]


async def test_admin_creates_unit_that_is_then_suggested(client, world):
    r = await client.post("/api/v1/units", json=_unit_body(), headers=world.auth("admin"))
    assert r.status_code == 201, r.text
    s = await client.get(
        "/api/v1/units/suggest",
        params={"category": "bao_cao_ca_benh", "ward": "00008"},
        headers=world.auth("operator"),
    )
    assert s.json()[0]["code"] == "UB-00008-YT"


async def test_unit_with_unknown_ward_is_422_on_ward_codes_and_not_created(client, world):
    r = await client.post(
        "/api/v1/units", json=_unit_body(ward_codes=["00008", "99999"]), headers=world.auth("admin")
    )
    assert r.status_code == 422
    assert r.json()["field"] == "ward_codes"
    assert "UB-00008-YT" not in await _unit_codes(client, world)


async def test_unit_with_unknown_category_is_422_on_categories(client, world):
    r = await client.post(
        "/api/v1/units", json=_unit_body(categories=["khong_co"]), headers=world.auth("admin")
    )
    assert r.status_code == 422
    assert r.json()["field"] == "categories"
    assert "UB-00008-YT" not in await _unit_codes(client, world)


async def test_duplicate_unit_code_is_409(client, world):
    r = await client.post(
        "/api/v1/units", json=_unit_body(code="UB-00004"), headers=world.auth("admin")
    )
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == "code"


async def test_non_admin_cannot_create_units(client, world):
    r = await client.post("/api/v1/units", json=_unit_body(), headers=world.auth("supervisor"))
    assert r.status_code == 403
    assert "UB-00008-YT" not in await _unit_codes(client, world)


async def test_suggest_without_ward_offers_only_this_sites_province_units(client, world):
    r = await client.post(
        "/api/v1/units",
        json={
            "code": "79-SLDTBXH",
            "name": "Sở Lao động - Thương binh và Xã hội - TP Hồ Chí Minh",
            "type": "labour_department",
            "province_code": "79",
            "categories": ["ho_tro_kho_khan"],
        },
        headers=world.auth("admin"),
    )
    assert r.status_code == 201, r.text

    s = await client.get(
        "/api/v1/units/suggest",
        params={"category": "ho_tro_kho_khan"},
        headers=world.auth("operator"),
    )

    assert s.status_code == 200
    assert [u["code"] for u in s.json()] == ["01-SLDTBXH"]
