"""The operator queue (ACD): who is free, who waits, and ringing the longest-idle operator.

Everything here is in memory in the phone-line process and never awaits the database: the
operators' statuses and SIP logins arrive by a poll (`PhoneLine`), and what the ACD decides
(busy, missed, available again, answered) leaves through `AcdHooks`, whose writes run in
their own tasks.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

import structlog

from hotline.agents.service import MISSES_BEFORE_AWAY, LineAgent
from hotline.db import utcnow
from hotline.telephony.backend import CallProgress
from hotline.telephony.sip.message import ParseError, parse_uri
from hotline.telephony.sip.outbound import OutboundLeg
from hotline.telephony.sip.route import Reach, ip_hop, routed

if TYPE_CHECKING:
    from hotline.telephony.sip.leg import SipLeg
    from hotline.telephony.sip.ua import UserAgent

log = structlog.get_logger("hotline.telephony.acd")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class AcdHooks(Protocol):
    def answered(self, user_id: int, progress: CallProgress) -> None: ...

    def missed(self, user_id: int) -> None: ...

    def finished(self, user_id: int) -> None: ...


@dataclass(eq=False)
class Waiting:
    leg: SipLeg
    branch: str
    seq: int
    operator: asyncio.Future[tuple[int, OutboundLeg]]
    queued_at: datetime = EPOCH
    offer: asyncio.Task[None] | None = None
    tried: set[int] = field(default_factory=set)


def _fixed_target(sip_uri: str | None) -> Reach | None:
    if not sip_uri:
        return None
    try:
        hop = ip_hop(parse_uri(sip_uri))  # no resolver in this process
    except ParseError:
        return None
    return Reach(sip_uri, hop) if hop is not None else None


class Acd:
    def __init__(
        self,
        ua: UserAgent,
        *,
        ring_seconds: float,
        hooks: AcdHooks | None = None,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.ua = ua
        self.ring_seconds = ring_seconds
        self.hooks = hooks
        self.now = now
        self._agents: dict[int, LineAgent] = {}
        self._fixed: dict[int, Reach | None] = {}
        self.engaged: set[int] = set()  # ringing or on a call, from this process
        self.last_call_end: dict[int, datetime] = {}
        self.misses: dict[int, int] = {}
        self.queues: dict[str, list[Waiting]] = {}
        self._seq = itertools.count()
        # Told when a caller joins or leaves a queue (the line publishes its queues).
        self.on_change: Callable[[], None] | None = None

    # -- operators ----------------------------------------------------------------------------
    @property
    def agents(self) -> dict[int, LineAgent]:
        return self._agents

    @agents.setter
    def agents(self, agents: dict[int, LineAgent]) -> None:
        self._agents = agents
        # Fixed URIs parsed once per poll, not at every choice.
        self._fixed = {a.user_id: _fixed_target(a.sip_uri) for a in agents.values()}

    def update_agents(self, agents: list[LineAgent]) -> None:
        previous = self.agents
        self.agents = {a.user_id: a for a in agents}
        self.ua.credentials = {
            a.sip_username: a.sip_ha1 for a in agents if a.sip_username and a.sip_ha1
        }
        for uid, agent in self.agents.items():
            old = previous.get(uid)
            if old is not None and old.status_since != agent.status_since:
                self.misses.pop(uid, None)  # they changed status themselves since
        self.dispatch()

    def reachable(self, agent: LineAgent) -> Reach | None:
        """Where to ring an operator: their registered phone (through the edge when it
        registered there), else their configured URI."""
        if agent.sip_username:
            binding = self.ua.registrar.lookup(agent.sip_username)
            if binding is not None:
                if binding.path:
                    return routed(binding.contact, binding.path)
                return Reach(binding.contact, binding.source)
        return self._fixed.get(agent.user_id)

    def free(self, branch: str) -> list[LineAgent]:
        """Available operators of a queue, reachable, not on a call: longest idle first."""
        found = [
            a
            for a in self.agents.values()
            if branch in a.queues
            and a.status == "available"
            and a.user_id not in self.engaged
            and self.misses.get(a.user_id, 0) < MISSES_BEFORE_AWAY
            and self.reachable(a) is not None
        ]
        return sorted(
            found, key=lambda a: max(a.status_since, self.last_call_end.get(a.user_id, EPOCH))
        )

    def staffed(self, branch: str) -> bool:
        """Whether a member of the queue is on duty: available or on a call, reachable."""
        return any(
            branch in a.queues
            and a.status in ("available", "busy")
            and self.misses.get(a.user_id, 0) < MISSES_BEFORE_AWAY
            and self.reachable(a) is not None
            for a in self.agents.values()
        )

    # -- callers ------------------------------------------------------------------------------
    def join(self, leg: SipLeg, branch: str) -> Waiting:
        future: asyncio.Future[tuple[int, OutboundLeg]] = asyncio.get_running_loop().create_future()
        waiting = Waiting(leg, branch, next(self._seq), future, queued_at=self.now())
        self.queues.setdefault(branch, []).append(waiting)
        self._changed()
        self.dispatch()
        return waiting

    def leave(self, waiting: Waiting) -> None:
        queue = self.queues.get(waiting.branch, [])
        if waiting in queue:
            queue.remove(waiting)
            self._changed()
        if waiting.offer is not None and not waiting.offer.done():
            waiting.offer.cancel()  # stops the operator's phone ringing
        self.dispatch()

    def waiting_now(self) -> dict[str, tuple[int, datetime]]:
        """Each queue with callers in it: how many wait, and when the first one arrived."""
        return {
            branch: (len(queue), min(w.queued_at for w in queue))
            for branch, queue in self.queues.items()
            if queue
        }

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def position(self, waiting: Waiting) -> int:
        queue = self.queues.get(waiting.branch, [])
        return queue.index(waiting) + 1 if waiting in queue else 0

    def dispatch(self) -> None:
        """Pair waiting callers, oldest first, with free operators, longest idle first."""
        for branch, queue in self.queues.items():
            callers = [w for w in queue if w.offer is None and not w.operator.done()]
            if not callers:
                continue
            agents = self.free(branch)
            for waiting in callers:
                agent = next((a for a in agents if a.user_id not in waiting.tried), None)
                if agent is None:
                    if agents:  # everyone free was tried: try them all again
                        waiting.tried.clear()
                        agent = agents[0]
                    else:
                        break
                agents.remove(agent)
                self.engaged.add(agent.user_id)
                waiting.tried.add(agent.user_id)
                waiting.offer = asyncio.get_running_loop().create_task(self._offer(waiting, agent))

    async def _offer(self, waiting: Waiting, agent: LineAgent) -> None:
        answered = False
        try:
            where = self.reachable(agent)
            if where is None:
                return
            try:
                rtp = await self.ua.ports.open(self.ua.config.host)
            except OSError:
                return
            out = OutboundLeg(
                self.ua,
                target=where.target,
                hop=where.hop,
                route=where.route,
                caller=waiting.leg.record.caller,
                codec=waiting.leg.codec,
                rtp=rtp,
            )
            answered = await out.call(self.ring_seconds)
            if answered and not waiting.operator.done() and not waiting.leg.ended.is_set():
                self.misses.pop(agent.user_id, None)
                waiting.operator.set_result((agent.user_id, out))
                return
            if answered:  # the caller left or someone else answered first
                await out.hangup()
                answered = False
            else:  # the leg ends itself (after its CANCEL or the failure's ACK)
                self._missed(agent.user_id)
        finally:
            if not answered:
                self.engaged.discard(agent.user_id)
                waiting.offer = None
                if not asyncio.current_task().cancelling():  # type: ignore[union-attr]
                    self.dispatch()

    def missed(self, user_id: int) -> None:
        """An operator rung for a call did not answer it (two in a row: away)."""
        self._missed(user_id)

    def _missed(self, user_id: int) -> None:
        self.misses[user_id] = self.misses.get(user_id, 0) + 1
        log.info("operator_missed_call", user_id=user_id, misses=self.misses[user_id])
        if self.hooks is not None:
            self.hooks.missed(user_id)

    def answered(self, user_id: int, progress: CallProgress) -> None:
        if self.hooks is not None:
            self.hooks.answered(user_id, progress)

    def release(self, user_id: int) -> None:
        """The operator's call is over: free (and idle from now) unless they changed status."""
        self.engaged.discard(user_id)
        self.last_call_end[user_id] = self.now()
        if self.hooks is not None:
            self.hooks.finished(user_id)
        self.dispatch()
