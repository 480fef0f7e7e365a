"""Contacts: one E.164 form per phone, lookup with past cases, merging."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.contacts.phones import normalise_phone
from hotline.errors import InvalidInput
from tests.conftest import new_case_body

# Vietnamese mobile prefixes (after the trunk 0) in use since the 2018 renumbering. 089 is left
# out: libphonenumber only knows some of its sub-ranges, so a random 089 number may be invalid.
MOBILE_PREFIXES = (
    "32",
    "33",
    "34",
    "35",
    "36",
    "37",
    "38",
    "39",
    "56",
    "58",
    "59",
    "70",
    "76",
    "77",
    "78",
    "79",
    "81",
    "82",
    "83",
    "84",
    "85",
    "86",
    "88",
    "90",
    "91",
    "93",
    "94",
    "96",
    "97",
    "98",
)


@pytest.mark.parametrize(
    "raw",
    ["0912345678", "+84 912 345 678", "84912345678", "(+84) 912-345-678", " 0912.345.678 "],
)
def test_common_forms_of_one_mobile_normalise_to_e164(raw: str) -> None:
    assert normalise_phone(raw) == "+84912345678"


@pytest.mark.parametrize("raw", ["12345", "abc", "", "0912", "+84 000 000 000", "09123456789012"])
def test_invalid_numbers_raise_invalid_input_naming_the_field(raw: str) -> None:
    with pytest.raises(InvalidInput) as err:
        normalise_phone(raw, field="contact.phone")
    assert err.value.field == "contact.phone"


@given(prefix=st.sampled_from(MOBILE_PREFIXES), rest=st.from_regex(r"\A[0-9]{7}\Z"))
def test_national_international_and_bare_84_forms_normalise_equal(prefix: str, rest: str) -> None:
    nsn = prefix + rest
    forms = {normalise_phone("0" + nsn), normalise_phone("+84" + nsn), normalise_phone("84" + nsn)}
    assert forms == {"+84" + nsn}


async def _open(client: Any, world: Any, phone: str, name: str = "") -> dict[str, Any]:
    r = await client.post(
        "/api/v1/cases",
        json=new_case_body(contact={"name": name, "phone": phone}),
        headers=world.auth("operator"),
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


@pytest.mark.anyio
async def test_cases_from_national_and_international_forms_share_one_contact(client, world):
    first = await _open(client, world, "0912345678", "Nguyễn Thị Lan")
    second = await _open(client, world, "+84912345678")
    assert first["contact_id"] is not None
    assert second["contact_id"] == first["contact_id"]


@pytest.mark.anyio
async def test_lookup_by_bare_84_form_returns_contact_with_past_cases(client, world):
    first = await _open(client, world, "0912345678", "Nguyễn Thị Lan")
    second = await _open(client, world, "+84912345678")
    r = await client.get(
        "/api/v1/contacts/lookup", params={"phone": "84912345678"}, headers=world.auth("operator")
    )
    assert r.status_code == 200, r.text
    card = r.json()
    assert card["id"] == first["contact_id"]
    assert card["name"] == "Nguyễn Thị Lan"
    assert card["phones"] == ["+84912345678"]
    assert {c["code"] for c in card["cases"]} == {first["code"], second["code"]}


@pytest.mark.anyio
async def test_lookup_is_logged_as_a_personal_data_read(client, world, app):
    from hotline.auth.service import SYSTEM
    from hotline.contacts.service import personal_reads

    case = await _open(client, world, "0912345678")
    r = await client.get(
        "/api/v1/contacts/lookup", params={"phone": "0912345678"}, headers=world.auth("operator")
    )
    assert r.status_code == 200
    async with app.state.hotline.sessionmaker() as session:
        reads = await personal_reads(session, actor=SYSTEM, contact_id=case["contact_id"])
    assert [r.purpose for r in reads] == ["lookup_by_phone"]


@pytest.mark.anyio
async def test_lookup_of_unknown_phone_is_404(client, world):
    await _open(client, world, "0912345678")
    r = await client.get(
        "/api/v1/contacts/lookup", params={"phone": "0987000111"}, headers=world.auth("operator")
    )
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")


@pytest.mark.anyio
async def test_lookup_of_malformed_phone_is_422_on_phone(client, world):
    r = await client.get(
        "/api/v1/contacts/lookup", params={"phone": "abc"}, headers=world.auth("operator")
    )
    assert r.status_code == 422
    assert r.json()["field"] == "phone"


@pytest.mark.anyio
async def test_unit_officer_may_not_look_up_citizens(client, world):
    await _open(client, world, "0912345678")
    r = await client.get(
        "/api/v1/contacts/lookup", params={"phone": "0912345678"}, headers=world.auth("officer")
    )
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")


@pytest.mark.anyio
async def test_merge_keeps_all_cases_and_phones_and_merged_resolves_to_kept(client, world):
    a1 = await _open(client, world, "0912345678", "Lan")
    a2 = await _open(client, world, "0912345678")
    b1 = await _open(client, world, "0987654321", "Nguyễn Thị Lan")
    keep, gone = a1["contact_id"], b1["contact_id"]
    assert keep != gone

    r = await client.post(
        f"/api/v1/contacts/{keep}/merge", json={"merge_id": gone}, headers=world.auth("operator")
    )

    assert r.status_code == 200, r.text
    card = r.json()
    assert card["id"] == keep
    assert card["phones"] == ["+84912345678", "+84987654321"]
    assert {c["code"] for c in card["cases"]} == {a1["code"], a2["code"], b1["code"]}
    merged = await client.get(f"/api/v1/contacts/{gone}", headers=world.auth("operator"))
    assert merged.status_code == 200
    assert merged.json()["id"] == keep
    by_old_phone = await client.get(
        "/api/v1/contacts/lookup", params={"phone": "0987654321"}, headers=world.auth("operator")
    )
    assert by_old_phone.json()["id"] == keep
    case = await client.get(f"/api/v1/cases/{b1['code']}", headers=world.auth("operator"))
    assert case.json()["contact_id"] == keep


@pytest.mark.anyio
async def test_merging_a_contact_into_itself_is_422(client, world):
    a = await _open(client, world, "0912345678")
    r = await client.post(
        f"/api/v1/contacts/{a['contact_id']}/merge",
        json={"merge_id": a["contact_id"]},
        headers=world.auth("operator"),
    )
    assert r.status_code == 422
    assert r.json()["field"] == "merge_id"


@pytest.mark.anyio
async def test_merging_the_kept_contact_into_one_merged_into_it_is_422(client, world):
    a = await _open(client, world, "0912345678")
    b = await _open(client, world, "0987654321")
    keep, gone = a["contact_id"], b["contact_id"]
    r = await client.post(
        f"/api/v1/contacts/{keep}/merge", json={"merge_id": gone}, headers=world.auth("operator")
    )
    assert r.status_code == 200

    # `gone` now resolves to `keep`: folding `keep` into it is folding a contact into itself.
    r = await client.post(
        f"/api/v1/contacts/{gone}/merge", json={"merge_id": keep}, headers=world.auth("operator")
    )

    assert r.status_code == 422, r.text
    assert r.json()["field"] == "merge_id"
    still = await client.get(f"/api/v1/contacts/{keep}", headers=world.auth("operator"))
    assert still.status_code == 200
    assert still.json()["id"] == keep


@pytest.mark.anyio
async def test_merging_an_already_merged_contact_is_404(client, world):
    a = await _open(client, world, "0912345678")
    b = await _open(client, world, "0987654321")
    c = await _open(client, world, "0977111222")
    r = await client.post(
        f"/api/v1/contacts/{a['contact_id']}/merge",
        json={"merge_id": b["contact_id"]},
        headers=world.auth("operator"),
    )
    assert r.status_code == 200
    r = await client.post(
        f"/api/v1/contacts/{c['contact_id']}/merge",
        json={"merge_id": b["contact_id"]},
        headers=world.auth("operator"),
    )
    assert r.status_code == 404
    assert r.json()["field"] == "merge_id"


@pytest.mark.anyio
async def test_channel_identities_link_to_one_contact_and_show_on_the_card(client, world):
    r = await client.post(
        "/api/v1/contacts",
        json={"name": "Lê Văn Tám", "phones": ["0903123456"]},
        headers=world.auth("operator"),
    )
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    add = await client.post(
        f"/api/v1/contacts/{cid}/identities",
        json={"channel": "zalo", "external_id": "4368496045530239664", "display_name": "Tám Lê"},
        headers=world.auth("operator"),
    )
    assert add.status_code == 201, add.text
    card = await client.get(f"/api/v1/contacts/{cid}", headers=world.auth("operator"))
    assert card.json()["identities"] == [
        {"channel": "zalo", "external_id": "4368496045530239664", "display_name": "Tám Lê"}
    ]
    other = await client.post(
        "/api/v1/contacts", json={"phones": ["0903999888"]}, headers=world.auth("operator")
    )
    again = await client.post(
        f"/api/v1/contacts/{other.json()['id']}/identities",
        json={"channel": "zalo", "external_id": "4368496045530239664"},
        headers=world.auth("operator"),
    )
    assert again.status_code == 409
    assert again.json()["field"] == "external_id"
    bad = await client.post(
        f"/api/v1/contacts/{cid}/identities",
        json={"channel": "fax", "external_id": "x"},
        headers=world.auth("operator"),
    )
    assert bad.status_code == 422
    assert bad.json()["field"] == "channel"


@pytest.mark.anyio
async def test_supervisor_reads_who_saw_a_contacts_personal_data(client, world):
    r = await client.post(
        "/api/v1/contacts", json={"phones": ["0903123457"]}, headers=world.auth("operator")
    )
    cid = r.json()["id"]
    await client.get(f"/api/v1/contacts/{cid}", headers=world.auth("operator"))
    log = await client.get(f"/api/v1/contacts/{cid}/reads", headers=world.auth("supervisor"))
    assert log.status_code == 200
    assert [entry["purpose"] for entry in log.json()] == ["contact_card"]
    denied = await client.get(f"/api/v1/contacts/{cid}/reads", headers=world.auth("operator"))
    assert denied.status_code == 403


@pytest.mark.anyio
async def test_phone_numbers_with_letters_are_refused_everywhere(client, world):
    """phonenumbers reads letters as keypad digits: 0912-OOO-111 would be 0912 666 111."""
    owner = await _open(client, world, "0912666111", "Trần Văn Bình")
    operator = world.auth("operator")
    r = await client.post(
        "/api/v1/cases",
        json=new_case_body(contact={"name": "Lê Thị Hoa", "phone": "0912-OOO-111"}),
        headers=operator,
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == "contact.phone"
    r = await client.get(
        "/api/v1/contacts/lookup", params={"phone": "0912-OOO-111"}, headers=operator
    )
    assert r.status_code == 422 and r.json()["field"] == "phone", r.text
    r = await client.post(
        "/api/v1/contacts", json={"name": "Lê Thị Hoa", "phones": ["0912OOO111"]}, headers=operator
    )
    assert r.status_code == 422 and r.json()["field"] == "phones[0]", r.text
    call = {"line": "1022", "caller": "+84 912 OOO 111", "started_at": "2026-12-04T08:00:00Z"}
    r = await client.post("/api/v1/calls", json=call, headers=world.auth("supervisor"))
    assert r.status_code == 422 and r.json()["field"] == "caller", r.text
    # Only the real owner's case is on the number.
    r = await client.get(f"/api/v1/contacts/{owner['contact_id']}", headers=operator)
    assert [c["code"] for c in r.json()["cases"]] == [owner["code"]]


@pytest.mark.parametrize("raw", ["0912-OOO-111", "0912 345 67a", "+84 91 CALL ME", "1800-FLOWERS"])
def test_normaliser_refuses_letters(raw):
    with pytest.raises(InvalidInput) as err:
        normalise_phone(raw, field="contact.phone")
    assert err.value.field == "contact.phone"
