"""A citizen's name on the portal form: a character they cannot see (a bidi override, a
zero-width space) is no reason to refuse their report; it is taken out."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hotline.cases.models import Case
from hotline.contacts.models import Contact, ContactIdentity
from tests.portal.test_portal import send

pytestmark = pytest.mark.anyio


async def test_hidden_characters_in_a_portal_name_are_taken_out(app, client) -> None:
    sent = await send(client, name="\u202eNguyễn Thị\u200b  Hoa\ufeff")
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        case = await session.scalar(select(Case).where(Case.code == sent["code"]))
        assert case is not None and case.contact_id is not None
        contact = await session.get(Contact, case.contact_id)
        assert contact is not None and contact.name == "Nguyễn Thị Hoa"
        names = (
            await session.scalars(
                select(ContactIdentity.display_name).where(
                    ContactIdentity.contact_id == case.contact_id
                )
            )
        ).all()
        assert all(n == "Nguyễn Thị Hoa" for n in names)
