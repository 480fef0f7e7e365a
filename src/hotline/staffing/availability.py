"""An operator's availability on the line, tied to their clock.

The operator queue rings people on shift (service.ringable), so saying "available" (or
"busy") is being at work: for the operator queue's call takers (operators and
supervisors) it clocks them in when they are not — on a place running now or starting
within the clock-in tolerance, or on a supervisor's leave — and is refused, naming
`status`, when nothing lets them in. This is what contact-centre products do when an agent
goes ready: the log-in to the queue and the start of the working time are one step, so
nobody is on the line without a clock row, and nobody has to remember two buttons.

"Away" is a break: the clock row stays open (the working time goes on, the queue does not
ring them). Clocking out (clock.clock) ends the row and sets them away. Doctors answer
their own queue on its own hours, not the roster: their availability is as they say.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.agents.models import Agent, AgentStatus
from hotline.agents.service import set_status
from hotline.auth.models import User
from hotline.auth.service import Actor
from hotline.db import utcnow
from hotline.errors import InvalidInput
from hotline.staffing.checks import OPERATOR_ROLES
from hotline.staffing.clock import CLOCK_IN_EARLY, clock_in_row

ON_THE_LINE = frozenset({AgentStatus.AVAILABLE.value, AgentStatus.BUSY.value})


async def set_availability(
    session: AsyncSession, *, actor: Actor, status: str, early: timedelta = CLOCK_IN_EARLY
) -> Agent:
    """The actor says they are available, busy or away (`PUT /api/v1/agents/me/status`,
    the console's buttons). Available or busy clocks an operator-queue call taker in
    (clock.clock_in_row: the open row if it still holds, else a new one), or is refused,
    409 naming `status`, saying why; away keeps their clock row open (a break)."""
    if actor.user_id is None:
        raise InvalidInput("Cần đăng nhập bằng tài khoản người dùng", field="user_id")
    user = await session.get(User, actor.user_id)
    if user is not None and user.role in OPERATOR_ROLES and status in ON_THE_LINE:
        await clock_in_row(session, actor=actor, now=utcnow(), early=early, field="status")
    return await set_status(session, user_id=actor.user_id, status=status)
