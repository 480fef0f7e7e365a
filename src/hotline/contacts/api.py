"""Contacts: lookup by phone (with past cases), create, merge."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from hotline.auth.service import Actor
from hotline.cases.queries import CaseFilter, list_cases
from hotline.cases.schemas import CaseOut
from hotline.contacts import service
from hotline.contacts.models import Contact
from hotline.duplicates.contacts import merge_contacts
from hotline.types import Id
from hotline.web.deps import current_actor, get_state
from hotline.web.state import AppState

router = APIRouter(prefix="/api/v1/contacts", tags=["contacts"])
ActorDep = Annotated[Actor, Depends(current_actor)]
StateDep = Annotated[AppState, Depends(get_state)]


class ContactIn(BaseModel):
    name: str = Field(default="", max_length=200)
    phones: list[str] = Field(min_length=1, max_length=10)
    address: str = Field(default="", max_length=300)
    ward_code: str | None = None


class MergeIn(BaseModel):
    merge_id: Id


class IdentityIn(BaseModel):
    channel: str = Field(min_length=1, max_length=20)
    external_id: str = Field(min_length=1, max_length=200)
    display_name: str = Field(default="", max_length=200)


async def _card(session: Any, actor: Actor, contact: Contact) -> dict[str, Any]:
    page = await list_cases(
        session, actor=actor, filters=CaseFilter(contact_id=contact.id), cursor=None, limit=50
    )
    return {
        "id": contact.id,
        "name": contact.name,
        "address": contact.address,
        "ward_code": contact.ward_code,
        "phones": await service.phones_of(session, contact.id),
        "identities": [
            {"channel": i.channel, "external_id": i.external_id, "display_name": i.display_name}
            for i in await service.identities_of(session, contact.id)
        ],
        "cases": [CaseOut.of(c).model_dump(mode="json") for c in page.items],
    }


@router.get("/lookup")
async def lookup(
    actor: ActorDep, state: StateDep, phone: Annotated[str, Query(max_length=40)]
) -> dict[str, Any]:
    async with state.unit_of_work() as session:
        contact = await service.lookup_by_phone(session, actor=actor, phone=phone)
        return await _card(session, actor, contact)


@router.get("/{contact_id}")
async def get_contact(contact_id: Id, actor: ActorDep, state: StateDep) -> dict[str, Any]:
    async with state.unit_of_work() as session:
        contact = await service.open_contact_card(session, actor=actor, contact_id=contact_id)
        return await _card(session, actor, contact)


@router.post("", status_code=201)
async def create(body: ContactIn, actor: ActorDep, state: StateDep) -> dict[str, Any]:
    async with state.unit_of_work() as session:
        contact = await service.create_contact(
            session,
            actor=actor,
            name=body.name,
            phones=body.phones,
            address=body.address,
            ward_code=body.ward_code,
        )
        return {
            "id": contact.id,
            "name": contact.name,
            "phones": await service.phones_of(session, contact.id),
        }


@router.post("/{contact_id}/merge")
async def merge(contact_id: Id, body: MergeIn, actor: ActorDep, state: StateDep) -> dict[str, Any]:
    async with state.unit_of_work() as session:
        merged = await merge_contacts(
            session, keep_id=contact_id, merge_id=body.merge_id, actor=actor
        )
        contact = await service.open_contact_card(
            session, actor=actor, contact_id=merged.id, purpose="merge"
        )
        return await _card(session, actor, contact)


@router.post("/{contact_id}/identities", status_code=201)
async def add_identity(
    contact_id: Id, body: IdentityIn, actor: ActorDep, state: StateDep
) -> dict[str, Any]:
    async with state.unit_of_work() as session:
        identity = await service.add_identity(
            session,
            actor=actor,
            contact_id=contact_id,
            channel=body.channel,
            external_id=body.external_id,
            display_name=body.display_name,
        )
        return {
            "id": identity.id,
            "contact_id": identity.contact_id,
            "channel": identity.channel,
            "external_id": identity.external_id,
        }


@router.get("/{contact_id}/reads")
async def personal_data_reads(
    contact_id: Id, actor: ActorDep, state: StateDep
) -> list[dict[str, Any]]:
    """Who looked at this citizen's personal data, and when (administrators and supervisors)."""
    async with state.unit_of_work(read_only=True) as session:
        return [
            {
                "user_id": r.user_id,
                "case_id": r.case_id,
                "purpose": r.purpose,
                "at": r.at.isoformat(),
            }
            for r in await service.personal_reads(session, actor=actor, contact_id=contact_id)
        ]
