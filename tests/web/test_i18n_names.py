"""Names and labels that are data or built in Python, in the page's language: a category's
English name (its Vietnamese one when it has none) on every staff page, the report's
downloads and the FAQ, and the reasons of a triage suggestion in the suggestions API."""

from __future__ import annotations

import csv
import html
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from tests.cases.helpers import create, forward
from tests.conftest import site_today
from tests.dashboard.helpers import sign_in
from tests.knowledge.helpers import published

pytestmark = pytest.mark.anyio

# Default categories (directory/defaults.py): one keeps its English name, one loses it.
HARDSHIP = ("ho_tro_kho_khan", "Hỗ trợ khó khăn", "Hardship support")
VACCINATION = ("tiem_vac_xin", "Tiêm vắc xin", "Vaccination")
URGENT_TEXT = "Mẹ tôi khó thở, SpO2 91%, cần xe cấp cứu gấp"


@asynccontextmanager
async def browser(app: Any, username: str, lang: str) -> AsyncIterator[httpx.AsyncClient]:
    """A signed-in browser of its own, with the language chosen."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        await sign_in(c, username)
        c.cookies.set("lang", lang)
        yield c


async def _without_english_name(client: httpx.AsyncClient, world: Any, code: str) -> None:
    r = await client.patch(
        f"/api/v1/categories/{code}", json={"name_en": ""}, headers=world.auth("admin")
    )
    assert r.status_code == 200, r.text


def _text(page: httpx.Response) -> str:
    assert page.status_code == 200, page.text
    return html.unescape(page.text)


async def test_staff_pages_name_categories_in_english(app, client, world) -> None:
    await _without_english_name(client, world, VACCINATION[0])
    hardship = (await create(client, world, category=HARDSHIP[0]))["code"]
    await forward(client, world, hardship, "ward_a")
    vaccination = (await create(client, world, category=VACCINATION[0]))["code"]
    day = site_today().isoformat()  # the report's calendar is the site's
    pages = {
        "operator": ["/", f"/cases/{hardship}", f"/cases/{vaccination}", "/console/cases?view=all"],
        "officer": ["/inbox"],
        "supervisor": ["/dashboard", "/dashboard/charts", "/reports"],
        "admin": ["/admin/categories", "/admin/units"],
    }
    for who, paths in pages.items():
        async with browser(app, who, "en") as en, browser(app, who, "vi") as vi:
            for path in paths:
                english, vietnamese = _text(await en.get(path)), _text(await vi.get(path))
                if path != f"/cases/{vaccination}":
                    assert HARDSHIP[2] in english, (who, path)
                    assert HARDSHIP[1] not in english, (who, path)
                    assert HARDSHIP[1] in vietnamese, (who, path)
                    assert HARDSHIP[2] not in vietnamese, (who, path)
                if path in ("/", f"/cases/{vaccination}", "/reports", "/admin/categories"):
                    # No English name: the Vietnamese one, in either language.
                    assert VACCINATION[1] in english and VACCINATION[1] in vietnamese, path
    async with browser(app, "supervisor", "en") as en:
        r = await en.get(f"/reports?from={day}&to={day}&format=csv")
        assert r.status_code == 200, r.text
        rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        # (section code, section name, figure code, figure name, value)
        names = {row[2]: row[3] for row in rows if row[0] == "requests.by_category"}
        assert names[HARDSHIP[0]] == HARDSHIP[2] and names[VACCINATION[0]] == VACCINATION[1]


async def test_the_faq_groups_answers_under_the_english_category_name(client, world) -> None:
    await published(client, world, category=HARDSHIP[0])
    client.cookies.set("lang", "en")
    english = _text(await client.get("/faq"))
    assert HARDSHIP[2] in english and HARDSHIP[1] not in english
    client.cookies.set("lang", "vi")
    vietnamese = _text(await client.get("/faq"))
    assert HARDSHIP[1] in vietnamese and HARDSHIP[2] not in vietnamese


async def test_the_knowledge_editor_names_categories_in_english(app, client, world) -> None:
    article = await published(client, world, category=HARDSHIP[0])
    async with browser(app, "supervisor", "en") as en:
        for path in ("/admin/knowledge", f"/admin/knowledge/{article['id']}"):
            english = _text(await en.get(path))
            assert HARDSHIP[2] in english and HARDSHIP[1] not in english, path


def _labels(body: dict[str, Any]) -> dict[str, str]:
    return {r["code"]: r["label"] for r in body["reasons"]}


@pytest.mark.parametrize("path", ["/api/v1/suggestions", "/api/v1/triage"])
async def test_suggestion_reasons_follow_the_language_cookie(app, client, world, path) -> None:
    async def ask(lang: str | None) -> dict[str, Any]:
        if lang is None:
            client.cookies.delete("lang")
        else:
            client.cookies.set("lang", lang)
        r = await client.post(path, json={"text": URGENT_TEXT}, headers=world.auth("operator"))
        assert r.status_code == 200, r.text
        body = r.json()
        return body["triage"] if path.endswith("suggestions") else body

    english = await ask("en")
    labels = _labels(english)
    assert labels["kho_tho"] == "Difficulty breathing"
    assert labels["spo2_thap"] == "Low SpO2 (≤ 94%)"
    if "model_urgent" in labels:
        assert labels["model_urgent"].startswith("Model: ")
    category = labels.get(english["category"])
    if category is not None:
        assert category == f"Words suggesting the category {english['category_name']}"
    assert english["category_name"] and english["category_name"].isascii()
    # Without the cookie (a program using the API), and in Vietnamese: as before.
    for lang in (None, "vi"):
        vietnamese = await ask(lang)
        assert _labels(vietnamese)["kho_tho"] == "Khó thở"
        assert _labels(vietnamese)["spo2_thap"] == "SpO2 thấp (≤ 94%)"
        assert vietnamese["category_name"] != english["category_name"]
