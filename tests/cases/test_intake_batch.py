"""Group commit of case intake on PostgreSQL (cases/intake_batch.py).

Reports that arrive while every intake connection is busy are written together in one
statement; these tests hold that statement to the one-row statement's rules.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest
from sqlalchemy import func, select, text

from hotline.auth.models import Role, User
from hotline.auth.service import Actor
from hotline.cases import service
from hotline.cases.intake_batch import IntakeWriter
from hotline.cases.models import Case, CaseEvent
from hotline.contacts.models import Contact, ContactPhone
from hotline.reports.models import CaseCounterDelta
from tests.conftest import new_case_body

pytestmark = [
    pytest.mark.anyio,
    # Batching exists only on PostgreSQL (SQLite intake goes through the ORM path).
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]


@pytest.fixture
async def intake(app: Any, client: Any, world: Any) -> dict[str, Any]:
    """A writer with one lane, so that whatever arrives while it writes is batched."""
    state = app.state.hotline
    # One request through the API confirms the category and ward for this process.
    r = await client.post("/api/v1/cases", json=new_case_body(), headers=world.auth("operator"))
    assert r.status_code == 201, r.text
    pool = await state.autocommit_pool()
    async with state.sessionmaker() as s:
        user = await s.scalar(select(User).where(User.username == "operator"))
    assert user is not None
    actor = Actor(user_id=user.id, username="operator", role=Role.OPERATOR)
    return {"state": state, "pool": pool, "actor": actor, "first_code": r.json()["code"]}


def _writer(intake: dict[str, Any], *, lanes: int = 1) -> IntakeWriter:
    return IntakeWriter(intake["pool"], lanes=lanes, max_batch=32)


async def _open(intake: dict[str, Any], writer: IntakeWriter, **fields: Any) -> Any:
    data = service.NewCase(
        channel=fields.pop("channel", "phone"),
        description=fields.pop("description", "Gia đình tôi hết gạo, xin hỗ trợ"),
        category=fields.pop("category", "ho_tro_kho_khan"),
        ward_code=fields.pop("ward_code", "00004"),
        **fields,
    )
    opened = await service.open_case_autocommit(
        writer,
        database=intake["state"].database,
        site=intake["state"].site,
        actor=fields.pop("actor", intake["actor"]),
        data=data,
    )
    assert opened is not None, "category and ward were confirmed by the first request"
    return opened[0]


async def _count(state: Any, model: Any) -> int:
    async with state.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_reports_arriving_together_are_written_in_one_statement(intake):
    writer = _writer(intake)
    state = intake["state"]
    before = {m: await _count(state, m) for m in (Case, CaseEvent, Contact, CaseCounterDelta)}

    opened = await asyncio.gather(
        *(
            _open(
                intake,
                writer,
                description=f"Yêu cầu số {i}",
                contact_name=f"Người {i}",
                contact_phone=f"09120000{i:02d}",
            )
            for i in range(10)
        )
    )

    # All ten reach the writer before its lane starts: one statement.
    assert writer.statements == 1
    assert len({case.code for case in opened}) == 10
    assert len({case.contact_id for case in opened}) == 10
    after = {m: await _count(state, m) for m in (Case, CaseEvent, Contact, CaseCounterDelta)}
    assert {m: after[m] - before[m] for m in after} == {
        Case: 10,
        CaseEvent: 10,
        Contact: 10,
        CaseCounterDelta: 10,
    }
    async with state.sessionmaker() as s:
        for case in opened:
            row = await s.get(Case, case.id)
            assert row is not None and row.code == case.code
            assert row.description == case.description
            assert row.contact_id == case.contact_id
            contact = await s.get(Contact, case.contact_id)
            assert contact is not None and contact.name == f"Người {case.description[-1]}"


async def test_a_batch_writes_exactly_what_the_one_row_statement_writes(intake):
    """The same report, once alone and once inside a batch: identical rows."""
    state = intake["state"]
    fields = {
        "description": "Cháy nhà ở ngõ 12, cần hỗ trợ gấp",
        "category": "ho_tro_kho_khan",
        "urgent": True,
        "contact_name": "Lê Văn Tâm",
        "address": "Số 3 ngõ 12 Kim Mã",
        "lat": 21.03,
        "long": 105.82,
        "public": True,
    }
    alone = await _open(intake, _writer(intake), contact_phone="0913000001", **fields)
    writer = _writer(intake)
    batch = await asyncio.gather(
        _open(intake, writer, contact_phone="0913000009", description="mở đầu"),
        _open(intake, writer, contact_phone="0913000002", **fields),
        _open(intake, writer, contact_phone="0913000003", description="khác"),
    )
    assert writer.statements == 1
    in_batch = batch[1]

    def shape(case: Case, event: CaseEvent, delta: CaseCounterDelta, contact: Contact) -> Any:
        skip = {"id", "code", "contact_id", "created_at", "updated_at", "search_text"}
        keys = [c.key for c in Case.__table__.columns if c.key not in skip]
        columns = {k: getattr(case, k) for k in keys}
        return (
            columns,
            case.search_text.split(" ", 2)[2],  # what follows the code
            (event.kind, event.actor_id, event.to_status, event.data, event.at == case.created_at),
            (delta.category_code, delta.channel, delta.created, delta.forwarded, delta.urgent),
            (contact.name, contact.address, contact.created_at == case.created_at),
        )

    shapes = []
    async with state.sessionmaker() as s:
        for opened in (alone, in_batch):
            case = await s.get(Case, opened.id)
            event = await s.scalar(select(CaseEvent).where(CaseEvent.case_id == opened.id))
            deltas = (await s.scalars(select(CaseCounterDelta).order_by(CaseCounterDelta.id))).all()
            # Deltas carry no case id: the urgent one is this report's.
            urgent = [d for d in deltas if d.urgent]
            contact = await s.get(Contact, opened.contact_id)
            assert case is not None and event is not None and contact is not None
            shapes.append(shape(case, event, urgent[len(shapes)], contact))
    assert shapes[0] == shapes[1]


async def test_one_new_number_several_times_in_a_batch_makes_one_contact(intake):
    state = intake["state"]
    writer = _writer(intake)
    contacts_before = await _count(state, Contact)

    opened = await asyncio.gather(
        _open(intake, writer, contact_phone="0914000000"),
        *(
            _open(intake, writer, contact_name=name, contact_phone="0914 111 222")
            for name in ("", "Phạm Thị Hoa", "Tên khác")
        ),
    )

    assert writer.statements == 1
    shared = {case.contact_id for case in opened[1:]}
    assert len(shared) == 1
    assert await _count(state, Contact) == contacts_before + 2
    async with state.sessionmaker() as s:
        contact = await s.get(Contact, shared.pop())
        owners = (
            await s.scalars(
                select(ContactPhone.contact_id).where(ContactPhone.e164 == "+84914111222")
            )
        ).all()
    # The first name given for the number, as when the reports come one by one.
    assert contact is not None and contact.name == "Phạm Thị Hoa"
    assert owners == [contact.id]


async def test_a_known_number_without_a_name_gets_the_first_name_a_batch_brings(intake):
    state = intake["state"]
    known = await _open(intake, _writer(intake), contact_phone="0915000111")
    writer = _writer(intake)

    opened = await asyncio.gather(
        _open(intake, writer, contact_phone="0915000000"),
        _open(intake, writer, contact_name="", contact_phone="0915000111"),
        _open(intake, writer, contact_name="Đỗ Văn Nam", contact_phone="+84 915 000 111"),
    )

    assert writer.statements == 1
    assert opened[1].contact_id == opened[2].contact_id == known.contact_id
    async with state.sessionmaker() as s:
        contact = await s.get(Contact, known.contact_id)
    assert contact is not None and contact.name == "Đỗ Văn Nam"


async def test_a_report_that_fails_fails_alone_and_the_rest_of_its_batch_is_written(intake):
    state = intake["state"]
    writer = _writer(intake)
    cases_before = await _count(state, Case)
    contacts_before = await _count(state, Contact)

    results = await asyncio.gather(
        _open(intake, writer, contact_phone="0916000000"),
        _open(intake, writer, contact_phone="0916000001"),
        # A contact id that does not exist: the batch statement fails as a whole.
        _open(intake, writer, contact_id=987654321, description="liên hệ không tồn tại"),
        _open(intake, writer, contact_phone="0916000003"),
        return_exceptions=True,
    )

    assert isinstance(results[2], asyncpg.ForeignKeyViolationError)
    assert all(not isinstance(r, BaseException) for i, r in enumerate(results) if i != 2)
    # The failed batch (nothing written), then its four reports one by one.
    assert writer.statements == 1 + 4
    assert await _count(state, Case) == cases_before + 3
    assert await _count(state, Contact) == contacts_before + 3


async def test_a_taken_code_in_a_batch_draws_again_and_writes_nothing_for_it(intake, monkeypatch):
    from hotline.cases import codes

    state = intake["state"]
    taken = intake["first_code"]
    drawn = iter(["AAAA-AAAA", "BBBB-BBBB", taken, "BBBB-BBBB", "CCCC-CCCC", "DDDD-DDDD"])
    monkeypatch.setattr(codes, "random_code", lambda: next(drawn))
    writer = _writer(intake)
    contacts_before = await _count(state, Contact)

    opened = await asyncio.gather(
        *(_open(intake, writer, contact_phone=f"09170000{i:02d}") for i in range(4))
    )

    # One batch: AAAA, BBBB, the taken code, BBBB again (taken within the batch). Those
    # two draw again and go together: CCCC, DDDD.
    assert sorted(case.code for case in opened) == [
        "AAAA-AAAA",
        "BBBB-BBBB",
        "CCCC-CCCC",
        "DDDD-DDDD",
    ]
    assert writer.statements == 2
    assert await _count(state, Contact) == contacts_before + 4
    async with state.sessionmaker() as s:
        events = await s.scalar(
            select(func.count())
            .select_from(CaseEvent)
            .join(Case, Case.id == CaseEvent.case_id)
            .where(Case.code == "BBBB-BBBB")
        )
    assert events == 1


async def test_a_number_registered_meanwhile_by_another_process_wins_and_leaves_no_orphan(
    intake,
):
    """Another web process registers a new number while our batch brings it too."""
    state = intake["state"]
    pool = intake["pool"]
    other = await pool.acquire()
    try:
        tx = other.transaction()
        await tx.start()
        winner = await other.fetchval(
            "INSERT INTO contact (name, address, note, created_at)"
            " VALUES ('Người gọi trước', '', '', now()) RETURNING id"
        )
        await other.execute(
            "INSERT INTO contact_phone (e164, contact_id) VALUES ('+84918000111', $1)", winner
        )
        contacts_before = await _count(state, Contact)
        writer = _writer(intake, lanes=1)
        batch = asyncio.gather(
            _open(intake, writer, contact_phone="0918000000"),
            _open(intake, writer, contact_phone="0918000111"),
            _open(intake, writer, contact_phone="0918000222"),
        )
        async with state.sessionmaker() as s:
            for _ in range(250):
                if await _waiting_on_locks(s):
                    break
                await asyncio.sleep(0.02)
            else:
                pytest.fail("the batch never waited for the other process's number")
        await tx.commit()
        opened = await batch
    finally:
        await pool.release(other)

    assert opened[1].contact_id == winner
    # The other process's contact and two for the other new numbers; the one our batch
    # made for the contested number is gone.
    assert await _count(state, Contact) == contacts_before + 3
    async with state.sessionmaker() as s:
        orphans = await s.scalar(
            select(func.count())
            .select_from(Contact)
            .where(~Contact.id.in_(select(ContactPhone.contact_id)))
        )
    assert orphans == 0


async def _waiting_on_locks(session: Any) -> int:
    return int(
        await session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
        or 0
    )
