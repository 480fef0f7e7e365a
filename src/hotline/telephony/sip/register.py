"""The registrar's door: operators' phones REGISTER with digest auth, under lockouts for
guessers, and are bound (with the edge's Path when they came through it) in the registrar."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import structlog

from hotline.netaddr import client_key as address_key
from hotline.telephony.sip.digest import Verdict, parse_digest
from hotline.telephony.sip.inbound import stable_tag
from hotline.telephony.sip.message import (
    Message,
    parse_address,
    response_to,
    transaction_key,
)
from hotline.telephony.sip.trunk import origin_of, within

if TYPE_CHECKING:
    from hotline.telephony.sip.ua import UserAgent

log = structlog.get_logger("hotline.telephony.sip")
T = TypeVar("T")
# How long a REGISTER waits for the shared lockouts in the database. A slow database must
# not hold phones' registrations (nor their retransmissions) for long: past this, the
# memory counts decide, and the query finishes in the background.
DATABASE_WAIT = 1.0


def on_register(ua: UserAgent, msg: Message, source: tuple[str, int]) -> None:
    key = transaction_key(msg)
    if key in ua.registering:
        return  # a retransmission while the database is asked: the answer is on its way
    ua.registering.add(key)
    ua.spawn(_register(ua, msg, source, key))


async def _register(
    ua: UserAgent, msg: Message, source: tuple[str, int], key: tuple[str, ...]
) -> None:
    try:
        await _decide(ua, msg, source)
    finally:
        ua.registering.discard(key)


async def _decide(ua: UserAgent, msg: Message, source: tuple[str, int]) -> None:
    authorization = msg.get("authorization")
    aor = msg.to_addr.uri.user
    named = (parse_digest(authorization) or {}) if authorization else {}
    guard, shared = ua.register_guard, ua.shared_lockouts
    users = {user[:81] for user in (aor, named.get("username", aor))}
    # Through the edge: its Path is kept (phones anywhere reach the line over TLS/TCP
    # at the edge, which holds their connection), and the phone's own address, which
    # the edge names, is the one counted for lockouts. Path from anyone else is ignored.
    path = tuple(msg.get_all("path")[:4]) if within(source[0], ua.config.edges) else ()
    origin = origin_of(msg, source[0], ua.config.edges)
    host = address_key(origin)
    # The phone already registered as this user, coming back, is never locked out:
    # otherwise a guesser (or a spoofed source) behind the same NAT address could knock
    # every operator's phone off the line.
    refreshing = all(registered_from(ua, user, msg, origin, source, path) for user in users)
    if not refreshing:
        locked = guard.address_locked(host) or any(guard.user_locked(user) for user in users)
        if not locked and shared is not None:
            # Another line (or this one before a restart) may have locked them out.
            for kind, name, seconds in await _waited(ua, shared.locked(users, host), []):
                guard.hold(kind, name, seconds)
                locked = True
        if locked:
            # Locked out: no challenge, and even the right password is refused until it ends.
            ua.log_limited("sip_register_locked", source, level="warning", user=aor[:80])
            ua.reply(msg, 403, "Forbidden", source)
            return
    check = ua.auth.check("REGISTER", authorization, ua.credentials.get)
    if check.verdict in (Verdict.MISSING, Verdict.STALE):
        resp = response_to(msg, 401, "Unauthorized", to_tag=stable_tag(msg.call_id))
        resp.add("WWW-Authenticate", ua.auth.challenge(stale=check.verdict is Verdict.STALE))
        ua.send_response(msg, resp, source)
        return
    if check.verdict is not Verdict.OK or check.username != aor:
        # Keys capped (SIP logins are at most 80 characters): 10,000 of them stay small.
        user = (check.username or aor)[:81]
        # Only real logins are counted per user: names nobody has would otherwise fill
        # the table and push real users' counts out of it.
        known = user in ua.credentials
        started = guard.failed(user if known else None, host)
        if shared is not None:
            counted = shared.failed(user if known else None, host)
            for kind, seconds in await _waited(ua, counted, []):
                guard.hold(kind, user if kind == "user" else host, seconds)
                started.append((kind, seconds))
        for kind, seconds in dict(started).items():
            event = f"sip_register_{kind}_locked_out"
            ua.log_limited(event, source, level="warning", user=user, seconds=seconds)
        ua.log_limited("sip_register_refused", source, level="warning", user=user)
        ua.reply(msg, 403, "Forbidden", source)
        return
    username = check.username
    guard.succeeded(username)
    if shared is not None and not refreshing:
        # A new registration with the right password clears the user's shared count (a
        # typo or two before it); the registered phone's refreshes do not, so they cannot
        # wipe a guesser's count at another line.
        ua.spawn(shared.succeeded(username))
    contacts = msg.get_all("contact")
    header = msg.get("expires").strip()
    default = int(header) if header.isdigit() else 3600
    if contacts == ["*"]:
        if default != 0:
            ua.reply(msg, 400, "Bad Request", source)
            return
        ua.registrar.unbind(username)
    elif contacts:
        address = parse_address(contacts[0])
        raw = address.params.get("expires", "")
        expires = min(int(raw) if raw.isdigit() else default, ua.config.max_expires)
        ua.registrar.bind(
            username, str(address.uri), source, expires, path, origin=origin, call_id=msg.call_id
        )
    resp = response_to(msg, 200, "OK", to_tag=stable_tag(msg.call_id))
    binding = ua.registrar.lookup(username)
    if binding is not None:
        resp.add("Contact", f"<{binding.contact}>;expires={ua.registrar.remaining(username)}")
        # The edge's Path is stored for every phone (requests to the phone must go through
        # the edge, which holds its connection) but echoed only to a phone that lists
        # `path` in Supported (RFC 3327 §5.3). Refusing the others with 420, as the RFC
        # recommends, would lock out the many desk and soft phones that never list it
        # (baresip by default); the Path is our own edge's and the phone need not know it
        # (Kamailio's registrar calls this path_mode 1).
        if supports_path(msg):
            for hop in binding.path:
                resp.add("Path", hop)
    ua.send_response(msg, resp, source)
    log.info("sip_registered", user=username, bound=binding is not None)


async def _waited(ua: UserAgent, work: Coroutine[Any, Any, T], late: T) -> T:
    """The database's answer if it comes within DATABASE_WAIT seconds, else `late` (the work
    goes on in the background: a failure is still counted, for the next try)."""
    task = ua.spawn(work)
    done, _ = await asyncio.wait({task}, timeout=DATABASE_WAIT)
    if not done:
        log.warning("sip_lockout_database_slow", seconds=DATABASE_WAIT)
        return late
    result: T = task.result()
    return result


def supports_path(msg: Message) -> bool:
    """Whether the REGISTER lists the `path` option tag in its Supported (RFC 3327 §4)."""
    tags = (t.strip().lower() for v in msg.get_all("supported") for t in v.split(","))
    return "path" in tags


def registered_from(
    ua: UserAgent,
    user: str,
    msg: Message,
    origin: str,
    source: tuple[str, int],
    path: tuple[str, ...],
) -> bool:
    """Whether this REGISTER comes from the phone that holds `user`'s binding.

    Either from exactly where it registered (the same source and, through the edge, the
    same Path), or from the same phone on a new port: the same host and the same Call-ID.
    The port alone does not name a phone: a phone over TCP or TLS gets a new ephemeral
    port with each connection (behind the edge, the Path's `received` changes with it), and
    a NAT may give a UDP phone a new one at any time, so a phone reconnecting while a
    guesser keeps its user locked out would be refused. The host alone is not enough
    either: behind one NAT address (an office, a mobile carrier's CGNAT) a guesser would be
    let past both lockouts. The Call-ID is what the guesser lacks: a phone keeps it for all
    its registrations until it restarts (RFC 3261 §10.2.4), and behind the edge it travels
    only inside the phone's TLS connection."""
    binding = ua.registrar.lookup(user)
    if binding is None:
        return False
    if (binding.source, binding.path) == (source, path):
        return True
    return (
        bool(binding.call_id)
        and binding.call_id == msg.call_id
        and address_key(binding.origin) == address_key(origin)
    )
