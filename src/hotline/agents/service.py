"""Operator availability and phone credentials; the snapshot the phone line polls."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.agents.models import Agent, AgentStatus
from hotline.auth.audit import record_change
from hotline.auth.models import Role, User
from hotline.auth.permissions import Permission, require
from hotline.auth.service import Actor
from hotline.calls.models import Call
from hotline.db import dialect_name, insert_for, utcnow
from hotline.directory.models import Unit
from hotline.errors import Conflict, InvalidInput, NotFound
from hotline.events import DomainEvent, record_event
from hotline.messages import msg
from hotline.site import site_of

# Which roles take the calls of which queue (Call.branch).
QUEUE_ROLES: dict[str, frozenset[Role]] = {
    "operator": frozenset({Role.OPERATOR, Role.SUPERVISOR}),
    "doctor": frozenset({Role.DOCTOR}),
}
CALL_TAKERS = frozenset(r for roles in QUEUE_ROLES.values() for r in roles)
SIP_USERNAME = re.compile(r"^[A-Za-z0-9._-]{1,80}$")
SKILL = re.compile(r"^[a-z0-9_]{1,30}$")
MISSES_BEFORE_AWAY = 2


def takes_calls(user: User) -> bool:
    """Whether the user answers one of the queues (a phone and a status on the board)."""
    return user.role in CALL_TAKERS


def digest_ha1(username: str, realm: str, password: str) -> str:
    """MD5(username:realm:password), what SIP digest (RFC 2617/7616 MD5) needs at the server."""
    return hashlib.md5(f"{username}:{realm}:{password}".encode()).hexdigest()


async def _agent(session: AsyncSession, user: User) -> Agent:
    agent = await session.get(Agent, user.id)
    if agent is None:
        # The first row of a call taker may be made by two requests at once (a clock-in
        # and a status change): ON CONFLICT lets the second wait for the first and read
        # its row instead of failing on the primary key.
        await session.execute(
            insert_for(dialect_name(session))(Agent)
            .values(user_id=user.id, status=AgentStatus.AWAY, status_since=utcnow(), missed=0)
            .on_conflict_do_nothing(index_elements=["user_id"])
        )
        agent = await session.get(Agent, user.id)
        assert agent is not None
    return agent


async def _taker(session: AsyncSession, user_id: int, field: str) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("Không tìm thấy người dùng", field=field)
    if user.role not in CALL_TAKERS:
        raise InvalidInput("Người dùng này không nhận cuộc gọi", field=field)
    return user


async def set_sip_credentials(
    session: AsyncSession,
    *,
    actor: Actor,
    user_id: int,
    username: str,
    password: str,
    realm: str,
    uri: str | None = None,
) -> Agent:
    """Give an operator's phone its SIP login (admins only); audited with the SIP username
    and address, never the password or its digest."""
    require(actor, Permission.CONFIGURE_PHONE, "Chỉ quản trị viên đặt được tài khoản SIP")
    user = await _taker(session, user_id, "user_id")
    if not SIP_USERNAME.match(username):
        raise InvalidInput("Tên đăng nhập SIP chỉ gồm chữ, số, dấu . _ -", field="username")
    if len(password) < 8:
        raise InvalidInput("Mật khẩu SIP phải có ít nhất 8 ký tự", field="password")
    if uri is not None and uri and not uri.startswith(("sip:", "sips:")):
        raise InvalidInput("Địa chỉ SIP phải bắt đầu bằng sip:", field="uri")
    taken = await session.scalar(
        select(Agent.user_id).where(Agent.sip_username == username, Agent.user_id != user.id)
    )
    if taken is not None:
        raise Conflict("Tên đăng nhập SIP đã được dùng", field="username")
    agent = await _agent(session, user)
    before = {"sip_username": agent.sip_username, "sip_uri": agent.sip_uri}
    agent.sip_username = username
    agent.sip_ha1 = digest_ha1(username, realm, password)
    if uri is not None:
        agent.sip_uri = uri or None
    record_change(
        session,
        actor=actor,
        kind="user",
        key=user.id,
        action="sip",
        before=before,
        after={"sip_username": agent.sip_username, "sip_uri": agent.sip_uri},
    )
    await session.flush()
    return agent


async def set_status(
    session: AsyncSession, *, user_id: int, status: str, field: str = "status"
) -> Agent:
    """An operator says they are available, busy or away; published as `agent.status`."""
    try:
        value = AgentStatus(status)
    except ValueError:
        raise InvalidInput(
            msg("Trạng thái không hợp lệ: {status}", status=status), field=field
        ) from None
    user = await _taker(session, user_id, "user_id")
    agent = await _agent(session, user)
    if agent.status != value:
        agent.status, agent.status_since = value, utcnow()
    if value is AgentStatus.AVAILABLE:
        agent.missed = 0
    await session.flush()
    record_event(
        session,
        DomainEvent(kind="agent.status", data={"user_id": user.id, "status": value.value}),
    )
    return agent


async def find_agent(session: AsyncSession, *, user_id: int) -> Agent | None:
    """The row if the user ever took calls; read-only (for pages)."""
    return await session.get(Agent, user_id)


async def sip_usernames(session: AsyncSession) -> dict[int, str]:
    """user id -> their phone's SIP username, for the users who have one (one query)."""
    rows = await session.execute(
        select(Agent.user_id, Agent.sip_username).where(Agent.sip_username.is_not(None))
    )
    return {user_id: name for user_id, name in rows.all() if name is not None}


async def my_agent(session: AsyncSession, *, user_id: int) -> Agent:
    """A call taker's own status; one who never set it is away (nothing written: the
    console polls this in a read-only transaction; the row is made on the first change)."""
    user = await _taker(session, user_id, "user_id")
    agent = await session.get(Agent, user.id)
    if agent is None:
        return Agent(user_id=user.id, status=AgentStatus.AWAY, status_since=utcnow(), missed=0)
    return agent


@dataclass(frozen=True)
class AgentView:
    user_id: int
    username: str
    full_name: str
    role: str
    status: str
    status_since: datetime
    calls_today: int
    sip_username: str | None
    sip_uri: str | None


async def list_agents(session: AsyncSession, *, actor: Actor) -> list[AgentView]:
    """Every call taker with their status and calls answered today (supervisors, admins)."""
    require(actor, Permission.SUPERVISE_AGENTS)
    site = site_of(session)
    day, _ = site.local_day_hour(utcnow())
    start = datetime.combine(day, datetime.min.time(), tzinfo=site.timezone)
    today = (
        select(Call.operator_id, func.count().label("n"))
        .where(Call.started_at >= start, Call.started_at < start + timedelta(days=1))
        .group_by(Call.operator_id)
        .subquery()
    )
    rows = await session.execute(
        select(User, Agent, today.c.n)
        .outerjoin(Agent, Agent.user_id == User.id)
        .outerjoin(today, today.c.operator_id == User.id)
        .where(User.role.in_(CALL_TAKERS), User.active.is_(True))
        .order_by(User.username)
    )
    return [
        AgentView(
            user_id=user.id,
            username=user.username,
            full_name=user.full_name,
            role=user.role.value,
            status=agent.status.value if agent else AgentStatus.AWAY.value,
            status_since=agent.status_since if agent else user.created_at,
            calls_today=int(n or 0),
            sip_username=agent.sip_username if agent else None,
            sip_uri=agent.sip_uri if agent else None,
        )
        for user, agent, n in rows.all()
    ]


# -- what the phone line reads and writes -----------------------------------------------------


@dataclass(frozen=True)
class LineAgent:
    """One call taker as the phone line sees them at a poll."""

    user_id: int
    queues: tuple[str, ...]  # the built-in queues of their role; the line's configured
    # queues replace these by matching role, unit and skills (telephony/switchboard.py)
    status: str
    status_since: datetime
    sip_username: str | None
    sip_ha1: str | None
    sip_uri: str | None
    role: str = ""
    unit: str | None = None  # their unit's code
    skills: tuple[str, ...] = ()


async def line_agents(session: AsyncSession) -> list[LineAgent]:
    rows = await session.execute(
        select(Agent, User.role, Unit.code)
        .join(User, User.id == Agent.user_id)
        .outerjoin(Unit, Unit.id == User.unit_id)
        .where(User.active.is_(True), User.role.in_(CALL_TAKERS))
    )
    return [
        LineAgent(
            user_id=agent.user_id,
            queues=tuple(q for q, roles in QUEUE_ROLES.items() if role in roles),
            status=agent.status.value,
            status_since=agent.status_since,
            sip_username=agent.sip_username,
            sip_ha1=agent.sip_ha1,
            sip_uri=agent.sip_uri,
            role=role.value,
            unit=unit,
            skills=tuple(agent.skills or ()),
        )
        for agent, role, unit in rows.all()
    ]


async def set_skills(
    session: AsyncSession, *, actor: Actor, user_id: int, skills: list[str]
) -> Agent:
    """What a call taker can do (`medical`, `lang_en`, ...), matched by queues' members
    (administrators); audited."""
    require(actor, Permission.CONFIGURE_PHONE, "Chỉ quản trị viên đặt được kỹ năng")
    user = await _taker(session, user_id, "user_id")
    for i, skill in enumerate(skills):
        if not SKILL.match(skill):
            raise InvalidInput(
                "Kỹ năng chỉ gồm chữ thường không dấu, số và dấu _ (tối đa 30 ký tự)",
                field=f"skills[{i}]",
            )
    agent = await _agent(session, user)
    before = {"skills": list(agent.skills or [])}
    agent.skills = sorted(set(skills))
    record_change(
        session,
        actor=actor,
        kind="user",
        key=user.id,
        action="skills",
        before=before,
        after={"skills": agent.skills},
    )
    await session.flush()
    return agent


async def line_update(
    session: AsyncSession,
    *,
    user_id: int,
    status: AgentStatus | None = None,
    missed: bool = False,
    current_call_id: int | None = None,
    clear_call: bool = False,
) -> Agent | None:
    """The phone line marks an operator busy (call answered), available (call over) or
    missed a call (away after MISSES_BEFORE_AWAY in a row)."""
    agent = await session.get(Agent, user_id)
    if agent is None:
        return None
    if missed:
        agent.missed += 1
        if agent.missed >= MISSES_BEFORE_AWAY:
            status = AgentStatus.AWAY
    elif status is not None:
        agent.missed = 0
    # An operator who set themselves away during a call stays away afterwards.
    keep_away = status is AgentStatus.AVAILABLE and agent.status is AgentStatus.AWAY
    if status is not None and not keep_away:
        agent.status, agent.status_since = status, utcnow()
    if current_call_id is not None:
        agent.current_call_id = current_call_id
    if clear_call:
        agent.current_call_id = None
    await session.flush()
    record_event(
        session,
        DomainEvent(kind="agent.status", data={"user_id": user_id, "status": agent.status.value}),
    )
    return agent


async def release_from_calls(session: AsyncSession, *, call_ids: list[int]) -> list[int]:
    """Operators still shown on calls that are over (closed at a line's restart) are
    released as the call's end would have: no current call, available again unless they set
    themselves away. Returns their user ids; publishes `agent.status` for each."""
    if not call_ids:
        return []
    agents = (
        await session.scalars(
            select(Agent).where(Agent.current_call_id.in_(call_ids)).order_by(Agent.user_id)
        )
    ).all()
    for agent in agents:
        await line_update(
            session, user_id=agent.user_id, status=AgentStatus.AVAILABLE, clear_call=True
        )
    return [agent.user_id for agent in agents]
