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
from hotline.directory.service import check_category, check_ward, forget_confirmed
from hotline.events import EventRow
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
        # That request may have relied on a confirmation an earlier test made, close to its
        # end: confirmed afresh, the codes stay confirmed for the whole test.
        for kind, code in (("category", "ho_tro_kho_khan"), ("ward", "00004")):
            forget_confirmed(s, kind, code)
        await check_category(s, "ho_tro_kho_khan")
        await check_ward(s, "00004")
    assert user is not None
    actor = Actor(user_id=user.id, username="operator", role=Role.OPERATOR)
    return {"state": state, "pool": pool, "actor": actor, "first_code": r.json()["code"]}


def _writer(intake: dict[str, Any], *, lanes: int = 1) -> IntakeWriter:
    return IntakeWriter(intake["pool"], lanes=lanes, max_batch=32)


async def _open(intake: dict[str, Any], writer: IntakeWriter, **fields: Any) -> Any:
    # Urgency given: triage at intake takes a turn of the event loop (it classifies the
    # reports of one turn together), which these tests of the writer leave out.
    fields.setdefault("urgent", False)
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
    return opened


async def _count(state: Any, model: Any) -> int:
    async with state.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_reports_arriving_together_are_written_in_one_statement(intake):
    writer = _writer(intake)
    state = intake["state"]
    tables = (Case, CaseEvent, Contact, CaseCounterDelta, EventRow)
    before = {m: await _count(state, m) for m in tables}

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
    after = {m: await _count(state, m) for m in tables}
    assert {m: after[m] - before[m] for m in after} == {
        Case: 10,
        CaseEvent: 10,
        Contact: 10,
        CaseCounterDelta: 10,
        EventRow: 10,
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
        _open(intake, writer, contact_name="Tên sau", contact_phone="0915000111"),
    )

    assert writer.statements == 1
    assert opened[1].contact_id == opened[2].contact_id == opened[3].contact_id
    assert opened[1].contact_id == known.contact_id
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
        for _ in range(250):
            # A new session each time: a transaction keeps its first view of the activity.
            async with state.sessionmaker() as s:
                if await _waiting_on_locks(s):
                    break
            await asyncio.sleep(0.02)
        else:
            pytest.fail("the batch never waited for the other process's number")
        await tx.commit()
        opened = await batch
    finally:
        await pool.release(other)

    assert writer.statements == 1
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


def _mixed_reports(prefix: str, known: str, known_contact_id: int) -> list[dict[str, Any]]:
    """Reports that exercise every rule across rows (shared, known and missing numbers)."""
    shared = f"{prefix}0010"
    return [
        {"contact_phone": shared, "contact_name": ""},
        {"contact_phone": shared, "contact_name": "Hoàng Lan"},
        {"contact_phone": shared, "contact_name": "Tên khác"},
        {"contact_phone": known, "contact_name": ""},
        {"contact_phone": known, "contact_name": "Vũ Minh"},
        {"contact_id": known_contact_id, "description": "Theo mã liên hệ"},
        {"description": "Không để lại liên hệ"},
        {"urgent": True, "category": None, "ward_code": None, "contact_phone": f"{prefix}0020"},
    ]


async def _run_shape(intake: dict[str, Any], prefix: str, *, together: bool) -> Any:
    """Write the mixed reports alone one by one, or all at once; describe what was written."""
    state = intake["state"]
    known = f"{prefix}0001"
    first = await _open(intake, _writer(intake), contact_phone=known)
    async with state.sessionmaker() as s:
        delta_mark = await s.scalar(select(func.coalesce(func.max(CaseCounterDelta.id), 0)))
    reports = _mixed_reports(prefix, known, first.contact_id)
    writer = _writer(intake)
    if together:
        opened = await asyncio.gather(*(_open(intake, writer, **r) for r in reports))
        # The report whose category triage fills reaches the writer a turn of the event
        # loop after the others (triage classifies the reports of one turn together).
        assert writer.statements == 2
    else:
        opened = [await _open(intake, writer, **r) for r in reports]
        assert writer.statements == len(reports)
    skip = {"id", "code", "contact_id", "created_at", "updated_at", "search_text"}
    keys = [c.key for c in Case.__table__.columns if c.key not in skip]
    contact_order: dict[int | None, int] = {None: -1, first.contact_id: 0}
    rows = []
    async with state.sessionmaker() as s:
        for o in opened:
            case = await s.get(Case, o.id)
            assert case is not None
            event = await s.scalar(select(CaseEvent).where(CaseEvent.case_id == o.id))
            assert event is not None
            contact = await s.get(Contact, o.contact_id) if o.contact_id else None
            first_case_of_contact = await s.scalar(
                select(func.min(Case.created_at)).where(Case.contact_id == o.contact_id)
            )
            rows.append(
                (
                    {k: getattr(case, k) for k in keys},
                    contact_order.setdefault(o.contact_id, len(contact_order) - 1),
                    (contact.name, contact.created_at == first_case_of_contact)
                    if contact is not None and contact.id != first.contact_id
                    else (contact.name if contact is not None else None),
                    (event.kind, event.to_status, event.data, event.at == case.created_at),
                )
            )
        deltas = (
            await s.execute(
                select(
                    CaseCounterDelta.category_code,
                    CaseCounterDelta.channel,
                    CaseCounterDelta.urgent,
                    func.count(),
                )
                .where(CaseCounterDelta.id > delta_mark)
                .group_by(
                    CaseCounterDelta.category_code,
                    CaseCounterDelta.channel,
                    CaseCounterDelta.urgent,
                )
                .order_by(CaseCounterDelta.category_code, CaseCounterDelta.urgent)
            )
        ).all()
    return rows, [tuple(d) for d in deltas]


async def test_a_whole_batch_writes_what_the_same_reports_write_one_by_one(intake):
    one_by_one = await _run_shape(intake, "091900", together=False)
    together = await _run_shape(intake, "091901", together=True)

    assert together == one_by_one
    rows, deltas = together
    # The shape itself: the shared new number is one contact, made by its first report and
    # named by the first name given; the known contact got the name the batch brought.
    assert [r[1] for r in rows] == [1, 1, 1, 0, 0, 0, -1, 2]
    assert rows[0][2] == ("Hoàng Lan", True)
    assert rows[3][2] == "Vũ Minh"
    assert sum(d[3] for d in deltas) == 8


class _LosesAnswers:
    """Stands in for the intake pool: the first `lose` intake statements run on the real
    database but their answer is lost, as when the connection drops between the commit and
    the reply (or, with `before=True`, before the statement reaches the server)."""

    def __init__(self, pool: asyncpg.Pool, *, lose: int, before: bool = False) -> None:
        self.pool, self.lose, self.before = pool, lose, before

    def acquire(self) -> Any:
        owner = self

        class _Acquire:
            async def __aenter__(self) -> Any:
                self.cm = owner.pool.acquire()
                return _Conn(await self.cm.__aenter__(), owner)

            async def __aexit__(self, *exc: Any) -> None:
                await self.cm.__aexit__(*exc)

        return _Acquire()


class _Conn:
    def __init__(self, conn: asyncpg.Connection, owner: _LosesAnswers) -> None:
        self.conn, self.owner = conn, owner

    async def _run(self, method: str, *args: Any) -> Any:
        if self.owner.lose > 0 and "WITH" in args[0]:
            self.owner.lose -= 1
            if not self.owner.before:
                await getattr(self.conn, method)(*args)
            raise asyncpg.ConnectionDoesNotExistError(
                "connection was closed in the middle of operation"
            )
        return await getattr(self.conn, method)(*args)

    async def fetch(self, *args: Any) -> Any:
        return await self._run("fetch", *args)

    async def fetchrow(self, *args: Any) -> Any:
        return await self._run("fetchrow", *args)

    async def execute(self, *args: Any) -> Any:
        return await self.conn.execute(*args)


async def test_an_answer_lost_after_the_commit_answers_every_report_once(intake):
    state = intake["state"]
    writer = IntakeWriter(_LosesAnswers(intake["pool"], lose=1), lanes=1, max_batch=32)  # type: ignore[arg-type]
    cases_before = await _count(state, Case)
    events_before = await _count(state, CaseEvent)

    opened = await asyncio.gather(
        *(_open(intake, writer, contact_phone=f"09200000{i:02d}") for i in range(3))
    )

    # Written once, and each request told so: the batch is not written again.
    assert writer.statements == 1
    assert await _count(state, Case) == cases_before + 3
    assert await _count(state, CaseEvent) == events_before + 3
    async with state.sessionmaker() as s:
        for case in opened:
            row = await s.get(Case, case.id)
            assert row is not None and row.code == case.code
            assert row.contact_id == case.contact_id


async def test_a_connection_lost_before_the_statement_fails_its_reports_and_writes_nothing(
    intake,
):
    state = intake["state"]
    writer = IntakeWriter(
        _LosesAnswers(intake["pool"], lose=1, before=True),  # type: ignore[arg-type]
        lanes=1,
        max_batch=32,
    )
    cases_before = await _count(state, Case)
    contacts_before = await _count(state, Contact)

    results = await asyncio.gather(
        *(_open(intake, writer, contact_phone=f"09210000{i:02d}") for i in range(3)),
        return_exceptions=True,
    )

    assert all(isinstance(r, asyncpg.ConnectionDoesNotExistError) for r in results), results
    assert writer.statements == 1
    assert await _count(state, Case) == cases_before
    assert await _count(state, Contact) == contacts_before
    # The writer carries on with the next reports.
    again = await _open(intake, writer, contact_phone="0921000099")
    assert again.id is not None


async def test_closing_the_writer_finishes_the_reports_already_queued(intake):
    state = intake["state"]
    writer = _writer(intake)
    cases_before = await _count(state, Case)
    pending = [
        asyncio.ensure_future(_open(intake, writer, contact_phone=f"09220000{i:02d}"))
        for i in range(5)
    ]
    await asyncio.sleep(0)  # they reach the writer

    await writer.close()

    # Written by the time close returns (the pool may close next); then every request
    # gets its answer.
    assert await _count(state, Case) == cases_before + 5
    opened = await asyncio.wait_for(asyncio.gather(*pending), timeout=10)
    assert len({case.code for case in opened}) == 5


async def test_a_started_process_classifies_the_first_reports_on_the_fast_path(
    app, client, world, monkeypatch
):
    """Start-up loads the triage model (web/state.py warm_up): the first reports that leave
    out their urgency do not wait, each of them, for the model on the session path."""
    from hotline.triage import intake as triage_intake

    monkeypatch.setattr(triage_intake, "_loaded", {})  # nothing kept from another test
    state = app.state.hotline
    await state.warm_up()
    # Confirms the category and ward for this process; gives its urgency, so no triage.
    r = await client.post(
        "/api/v1/cases", json=new_case_body(urgent=False), headers=world.auth("operator")
    )
    assert r.status_code == 201, r.text
    async with state.sessionmaker() as s:
        user = await s.scalar(select(User).where(User.username == "operator"))
    assert user is not None
    opened = await service.open_case_autocommit(
        await state.intake_writer(),
        database=state.database,
        site=state.site,
        actor=Actor(user_id=user.id, username="operator", role=Role.OPERATOR),
        data=service.NewCase(
            channel="phone",
            description="Bố tôi khó thở, SpO2 91%",
            category="ho_tro_kho_khan",
            ward_code="00004",
        ),
    )
    assert opened is not None and opened.urgent
