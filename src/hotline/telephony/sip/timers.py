"""Session timers (RFC 4028): how long a call lives without a refresh, and who refreshes.

A caller's network can die without a BYE; the RTP timeout catches that only while media
flows (not while the caller holds). With a session timer one side re-INVITEs or UPDATEs
every half interval, and a session nobody refreshed ends with a BYE.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog

from hotline.telephony.sip.message import Message
from hotline.telephony.sip.sdp import SdpError, negotiate, parse_offer

if TYPE_CHECKING:
    from hotline.telephony.sip.leg import SipLeg

log = structlog.get_logger("hotline.telephony.sip")

MIN_SE_FLOOR = 90  # RFC 4028 §4: no one may ask for less


@dataclass(frozen=True)
class SessionTimer:
    interval: int  # seconds
    # "uac" (the caller refreshes) or "uas" (we do): the sides of the caller's INVITE, as in
    # our 2xx to it and to the caller's own refreshes. Our refreshes, where the line is the
    # UAC, carry it `turned`.
    refresher: str
    required: bool  # the caller supports timers: our 2xx says Require: timer

    def header(self) -> str:
        return f"{self.interval};refresher={self.refresher}"

    @property
    def refresh_after(self) -> float:
        """When we refresh (RFC 4028 §10: half the interval)."""
        return self.interval / 2

    @property
    def expires_after(self) -> float:
        """When a session the caller should have refreshed is given up (RFC 4028 §10)."""
        return self.interval - min(32.0, self.interval / 3)


class TooSmall(Exception):
    """Session-Expires below our Min-SE: 422 with it (RFC 4028 §9)."""


def option_tags(msg: Message, name: str) -> set[str]:
    return {t.strip().lower() for v in msg.get_all(name) for t in v.split(",") if t.strip()}


def _seconds(text: str) -> int | None:
    text = text.split(";")[0].strip()
    return int(text) if text.isdigit() and len(text) < 10 else None


def _refresher_param(raw: str) -> str:
    """The `refresher` parameter of a Session-Expires value ("" when absent)."""
    for param in raw.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "refresher":
            return value.strip().lower()
    return ""


def turned(refresher: str) -> str:
    """A refresher seen from the other transaction: "uac" and "uas" swap places.

    `SessionTimer.refresher` is relative to the caller's INVITE (its UAC is the caller), but
    RFC 4028 (§7.4, §9, §10) names the sides of each refresh transaction; in a refresh the
    line sends, the line is the UAC."""
    return "uas" if refresher == "uac" else "uac"


def negotiate_timer(req: Message, *, default: int, min_se: int) -> SessionTimer | None:
    """The timer of a session set up or refreshed by `req` (an INVITE or UPDATE).

    None when neither side asked for one. Raises TooSmall for an interval below `min_se`.
    We may shorten the interval to `default`, never below the request's Min-SE; the caller
    refreshes unless it named us, or cannot (no `timer` in Supported)."""
    # Requiring timers says the caller supports them (RFC 4028 §7.1) as much as listing them.
    supported = "timer" in option_tags(req, "supported") | option_tags(req, "require")
    raw = req.get("session-expires")
    requested = _seconds(raw) if raw else None
    if requested is None and not supported:
        return None
    if requested is not None and requested < min_se:
        raise TooSmall
    peer_min = _seconds(req.get("min-se")) or 0
    interval = max(min(requested or default, default), peer_min, min_se)
    refresher = _refresher_param(raw) if raw else ""
    if not supported:
        refresher = "uas"  # it cannot refresh; we must
    elif refresher not in ("uac", "uas"):
        refresher = "uac"
    return SessionTimer(interval, refresher, required=supported)


def add_timer(resp: Message, timer: SessionTimer | None) -> None:
    """The 2xx's Session-Expires (and Require: timer when the caller supports it)."""
    if timer is None:
        return
    resp.add("Session-Expires", timer.header())
    if timer.required:
        resp.add("Require", "timer")


def glare_delay(owns_call_id: bool) -> float:
    """How long to wait before sending again a request answered 491 (RFC 3261 §14.1): 2.1-4 s
    when we chose the dialog's Call-ID, 0-2 s otherwise, in steps of 10 ms. The two sides
    wait differently so that their offers do not cross again."""
    if owns_call_id:
        return 2.1 + secrets.randbelow(191) / 100
    return secrets.randbelow(201) / 100


async def _refreshed_within(leg: SipLeg, seconds: float) -> bool:
    """True if the caller refreshed the session (or the call ended) within `seconds`."""
    try:
        await asyncio.wait_for(leg.refreshed.wait(), max(0.0, seconds))
    except TimeoutError:
        return False
    return True


async def keep_session(leg: SipLeg) -> None:
    """Refresh the session when it is ours to (half the interval), expect the caller's
    refresh when it is theirs, and end a session nobody refreshed with a BYE (§10)."""
    loop = asyncio.get_running_loop()
    while (timer := leg.session_timer) is not None and not leg.ended.is_set():
        leg.refreshed.clear()
        refreshed_at = loop.time()
        ours = timer.refresher == "uas"
        wait = timer.refresh_after if ours else timer.expires_after
        if await _refreshed_within(leg, wait):
            continue  # the caller re-INVITEd or UPDATEd: a new interval
        if ours:
            status = await refresh(leg, timer)
            if status == 491:
                # Our offer crossed one of the caller's: once more after a random wait
                # (§14.1), unless the caller's own offer refreshes the session meanwhile.
                if await _refreshed_within(leg, glare_delay(leg.owns_call_id)):
                    continue
                status = await refresh(leg, timer)
            if status is not None and 200 <= status < 300:
                continue
            if status is not None and status not in (408, 481):
                # Refused (twice, for a 491), but the dialog lives: no more tries; the call
                # goes on until the session expires, a refresh from the caller renewing it.
                log.info("sip_refresh_refused", call_id=leg.call_id, status=status)
                expires = refreshed_at + timer.interval - loop.time()
                if await _refreshed_within(leg, expires):
                    continue
        log.info("sip_session_expired", call_id=leg.call_id, refresher=timer.refresher)
        leg.record.release("line", "session_expired")
        await leg.hangup()
        if leg.task is not None:
            leg.task.cancel()
        return


async def refresh(leg: SipLeg, timer: SessionTimer) -> int | None:
    """Our refresh: an UPDATE when the caller allows it (no SDP), else a re-INVITE with the
    session's SDP unchanged. The status of the answer; None when none came. A 422 whose
    Min-SE is above our interval is asked again once with that interval (RFC 4028 §7.4)."""
    resp = await _refresh_once(leg, timer)
    if resp is not None and resp.status == 422:
        min_se = _seconds(resp.get("min-se")) or 0
        if min_se > timer.interval:
            resp = await _refresh_once(leg, SessionTimer(min_se, timer.refresher, timer.required))
    return None if resp is None else resp.status


async def _refresh_once(leg: SipLeg, timer: SessionTimer) -> Message | None:
    method = "UPDATE" if "update" in option_tags(leg.invite, "allow") else "INVITE"
    req, hop = leg.request(method)
    # In our own request we are the UAC: "refresher=uac" asks that we go on refreshing.
    req.add("Session-Expires", f"{timer.interval};refresher={turned(timer.refresher)}")
    req.add("Supported", "timer")
    if method == "INVITE":
        req.add("Content-Type", "application/sdp")
        req.body = leg.sdp
    leg.offering = method == "INVITE"  # a re-INVITE of the caller's crossing it gets 491
    try:
        resp = await leg.ua.client_request(req, hop)
    finally:
        leg.offering = False
    if resp is None:
        return None
    if method == "INVITE":
        leg.ua.send_ack(req, resp, hop)  # a refusal too (491): unACKed, it is sent again
    if method == "INVITE" and 200 <= resp.status < 300:
        # An answer we cannot use changes nothing: the media stay as they were.
        with contextlib.suppress(SdpError):
            leg.apply(negotiate(parse_offer(resp.body)))
    if 200 <= resp.status < 300:
        raw = resp.get("session-expires")
        granted = _seconds(raw) if raw else None
        if granted:
            # The answer names a side of our request: "uac" is us, "uas" the caller (§7.4).
            # Without the parameter (the UAS must add it) we keep refreshing, as we asked.
            named = _refresher_param(raw)
            refresher = turned(named) if named in ("uac", "uas") else "uas"
            leg.session_timer = SessionTimer(granted, refresher, timer.required)
    return resp
