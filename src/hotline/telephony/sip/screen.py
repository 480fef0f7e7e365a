"""Checks a request passes before its method's handler: who may hear an answer at all, and
whether a request in a call's dialog comes in order (RFC 3261 §12.2.2)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hotline.telephony.sip.message import Message, response_to

if TYPE_CHECKING:
    from hotline.telephony.sip.ua import UserAgent

# Requests a stranger's out-of-dialog request may still make: an INVITE meets the trunk door
# (admission.py), a REGISTER the registrar's, and a CANCEL or ACK follow a request.
OWN_DOOR = frozenset({"INVITE", "REGISTER", "CANCEL", "ACK"})


def screen(ua: UserAgent, msg: Message, source: tuple[str, int]) -> bool:
    """True when the request has been dealt with here (answered or ignored)."""
    if not msg.to_addr.tag:
        return _stranger(ua, msg, source)
    if msg.method in ("ACK", "CANCEL"):
        return False  # they carry the CSeq number of the request they belong to
    leg = ua._dialog(msg)
    if leg is None:
        return False
    number = msg.cseq[0]
    if number <= leg.remote_cseq:
        # Out of order, or a new transaction reusing a number (a new branch): not acted on.
        resp = response_to(msg, 500, "Server Internal Error", to_tag=leg.local_tag)
        ua.send_response(msg, resp, source)
        return True
    leg.remote_cseq = number
    return False


def _stranger(ua: UserAgent, msg: Message, source: tuple[str, int]) -> bool:
    """An address that is not a trunk, a registered phone or the edge learns nothing from an
    out-of-dialog request but an INVITE's or REGISTER's own refusal: no 420, no 501 that
    would tell a scanner a SIP server listens here."""
    if msg.method in OWN_DOOR or ua._known(source[0]):
        return False
    if msg.method == "OPTIONS" and ua.config.options_answer_all:
        return False
    ua.log_limited("sip_stranger_ignored", source, method=msg.method[:20])
    return True
