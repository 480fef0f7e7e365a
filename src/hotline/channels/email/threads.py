"""Which conversation an incoming e-mail continues, and whether to acknowledge it.

Pure functions: the channel service matches the keys against what it stored (the Message-IDs
of messages in and out, the cases' tracking codes) and keeps the acknowledgement times.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from hotline.cases.codes import normalise_code
from hotline.channels.adapter import Inbound

# A tracking code as written: XXXX-XXXX (cases/codes.py), in any case. A bare one must hold a
# letter so that "2024-2025" in a subject is not taken for a code; one in brackets, as our
# replies write it, may be all digits.
_CODE = re.compile(r"(\[)?(?<![0-9A-Za-z])([0-9A-Za-z]{4}-[0-9A-Za-z]{4})(?![0-9A-Za-z])(\])?")


def case_codes(text: str | None) -> list[str]:
    """Tracking codes named in a text, canonical (cases.codes.normalise_code), in order."""
    found: list[str] = []
    for opening, raw, closing in _CODE.findall(text or ""):
        bracketed = bool(opening and closing)
        if not bracketed and not any(ch.isalpha() for ch in raw):
            continue
        code = normalise_code(raw)
        if code and code not in found:
            found.append(code)
    return found


@dataclass(frozen=True)
class ThreadKey:
    kind: Literal["message_id", "case_code"]
    value: str


def thread_keys(inbound: Inbound) -> list[ThreadKey]:
    """Where to look for the conversation, best first: the message answered (In-Reply-To),
    the rest of the thread (References, newest first), then a case code in the subject.
    The first key that matches a stored message or case wins."""
    keys = [ThreadKey("message_id", ref) for ref in dict.fromkeys(inbound.thread_refs)]
    keys += [ThreadKey("case_code", code) for code in case_codes(inbound.subject)]
    return keys


ACK_INTERVAL = timedelta(hours=1)


def should_acknowledge(
    inbound: Inbound,
    recent_acknowledgements: Iterable[datetime],
    *,
    now: datetime,
    interval: timedelta = ACK_INTERVAL,
    limit: int = 1,
) -> bool:
    """Whether to send this sender an automatic acknowledgement: never for a machine's message
    (RFC 3834) or an echo of our own, and at most `limit` per sender within `interval` (so a
    misbehaving auto-responder that slips past the headers gets one answer, not a loop)."""
    if inbound.automatic or inbound.kind != "message":
        return False
    since = now - interval
    return sum(1 for at in recent_acknowledgements if at > since) < limit
