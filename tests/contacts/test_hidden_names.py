"""Names staff type for a citizen (a new contact, a channel identity, the reporter of a new
case) are refused, naming the field, when they hold control or format characters: a
zero-width space makes a second record of one person, a bidi override shows the name
reversed. Home care already refuses them (tests/care)."""

from __future__ import annotations

import pytest

from tests.conftest import new_case_body

pytestmark = pytest.mark.anyio

HIDDEN = [
    ("Lan\u200b", "U+200B"),  # zero-width space
    ("\u202eLan", "U+202E"),  # right-to-left override
    ("Lan\u2066", "U+2066"),  # left-to-right isolate
    ("La\u0007n", "U+0007"),  # bell, a control character
    ("\ufeffLan", "U+FEFF"),  # zero-width no-break space (byte order mark)
]


def _refused(r, field: str, chars: str) -> None:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == field
    assert chars in r.json()["detail"]


@pytest.mark.parametrize(("name", "chars"), HIDDEN)
async def test_a_new_contact_with_a_hidden_character_in_its_name_is_refused(
    client, world, name: str, chars: str
) -> None:
    r = await client.post(
        "/api/v1/contacts",
        json={"name": f"Nguyễn Thị {name}", "phones": ["0903123456"]},
        headers=world.auth("operator"),
    )
    _refused(r, "name", chars)
    r = await client.get(
        "/api/v1/contacts/lookup", params={"phone": "0903123456"}, headers=world.auth("operator")
    )
    assert r.status_code == 404  # nothing was kept


async def test_a_contact_name_is_kept_tidy(client, world) -> None:
    r = await client.post(
        "/api/v1/contacts",
        json={"name": "  Nguyễn   Thị Lan ", "phones": ["0903123456"]},
        headers=world.auth("operator"),
    )
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "Nguyễn Thị Lan"


@pytest.mark.parametrize(("name", "chars"), HIDDEN)
async def test_an_identity_with_a_hidden_character_in_its_display_name_is_refused(
    client, world, name: str, chars: str
) -> None:
    r = await client.post(
        "/api/v1/contacts",
        json={"name": "Lê Văn Tám", "phones": ["0903123456"]},
        headers=world.auth("operator"),
    )
    cid = r.json()["id"]
    r = await client.post(
        f"/api/v1/contacts/{cid}/identities",
        json={"channel": "zalo", "external_id": "4368496045530239664", "display_name": name},
        headers=world.auth("operator"),
    )
    _refused(r, "display_name", chars)
    card = await client.get(f"/api/v1/contacts/{cid}", headers=world.auth("operator"))
    assert card.json()["identities"] == []


@pytest.mark.parametrize(("name", "chars"), HIDDEN)
async def test_a_case_whose_reporter_name_has_a_hidden_character_is_refused(
    client, world, name: str, chars: str
) -> None:
    body = new_case_body(contact={"name": name, "phone": "0912345678"})
    r = await client.post("/api/v1/cases", json=body, headers=world.auth("operator"))
    _refused(r, "contact.name", chars)
    r = await client.get(
        "/api/v1/contacts/lookup", params={"phone": "0912345678"}, headers=world.auth("operator")
    )
    assert r.status_code == 404  # neither the case nor its reporter was kept
