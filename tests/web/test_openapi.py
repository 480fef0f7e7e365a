"""The OpenAPI document integrations read: complete, every reference resolvable."""

from __future__ import annotations

import json
import re

import pytest

pytestmark = pytest.mark.anyio


async def test_every_schema_reference_resolves_and_intake_documents_its_body(client):
    r = await client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    spec = r.json()
    schemas = spec["components"]["schemas"]
    refs = set(re.findall(r"#/components/schemas/([\w.-]+)", json.dumps(spec)))
    assert refs <= set(schemas), refs - set(schemas)
    intake = spec["paths"]["/api/v1/cases"]["post"]
    body = intake["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/CaseIn"}
    assert {"channel", "description", "contact", "ward_code"} <= set(
        schemas["CaseIn"]["properties"]
    )
    assert intake["security"] == [{"OAuth2PasswordBearer": []}]
    assert "201" in intake["responses"]
