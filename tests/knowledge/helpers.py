"""HTTP helpers shared by the knowledge-base tests."""

from __future__ import annotations

from typing import Any

API = "/api/v1/knowledge/articles"


def article_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "question": "Xin giấy đi đường ở đâu trong thời gian giãn cách?",
        "answer": "Người dân đăng ký giấy đi đường tại Công an phường nơi cư trú.",
        "category": "di_lai_giay_to",
        "source_document": "Chỉ thị 16/CT-TTg",
    }
    body.update(overrides)
    return body


async def create(client, world, who: str = "supervisor", **overrides: Any) -> dict[str, Any]:
    r = await client.post(API, json=article_body(**overrides), headers=world.auth(who))
    assert r.status_code == 201, r.text
    return r.json()


async def publish(client, world, article_id: int, who: str = "supervisor") -> dict[str, Any]:
    r = await client.post(f"{API}/{article_id}/publish", headers=world.auth(who))
    assert r.status_code == 200, r.text
    return r.json()


async def published(client, world, who: str = "supervisor", **overrides: Any) -> dict[str, Any]:
    return await publish(client, world, (await create(client, world, who, **overrides))["id"])


async def search(client, world, q: str, who: str = "operator", **params: Any) -> list[dict]:
    r = await client.get(API, params={"q": q, **params}, headers=world.auth(who))
    assert r.status_code == 200, r.text
    return r.json()["items"]
