"""What the caller's side reports about our REFER: the NOTIFYs of its implicit subscription
(RFC 3515 §2.4.4), each with a message/sipfrag body (RFC 3420) such as `SIP/2.0 180 Ringing`.

`100 Trying` says only that the caller's side is trying: it is no sign of the destination.
A 180, a 183 (or any other provisional above 100) says the destination rings; a final status
ends the subscription's news. Reports keep coming after the line has given up on the REFER
and called the destination itself (telephony/transfer.py): a late 2xx must still be heard,
since it means the caller's side now has its own call with the destination.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from hotline.db import utcnow


def sipfrag_status(body: bytes) -> int | None:
    """The status of a sipfrag's status line (`SIP/2.0 183 Session Progress`), or None."""
    parts = body.split(None, 2)
    if len(parts) < 2 or parts[0] != b"SIP/2.0" or not parts[1].isdigit() or len(parts[1]) != 3:
        return None
    return int(parts[1])


class ReferProgress:
    """One REFER's reports, in the order they came; the first final status is kept."""

    def __init__(self, cseq: int = 0) -> None:
        self.cseq = cseq  # the REFER's: its NOTIFYs may name it as the Event's `id`
        self.latest: int | None = None  # the last status reported
        self.ringing = False  # a provisional above 100 (or a final) was reported
        self.final: int | None = None
        self.final_at: datetime | None = None
        self.changed = asyncio.Event()
        # Called on a 2xx that comes after the line gave up on the REFER (transfer.py).
        self.late: Callable[[], None] | None = None
        # The subscription outlives the call until this loop time (0: it does not), and
        # its final status after the call's end goes here (sip/subscription.py).
        self.keep_until = 0.0
        self.after_end: Callable[[int, datetime], None] | None = None

    def report(self, status: int) -> bool:
        """Take a NOTIFY's status; False when it says nothing new (after the final one)."""
        if self.final is not None or status < 100:
            return False
        self.latest = status
        if status > 100:
            self.ringing = True
        if status >= 200:
            self.final, self.final_at = status, utcnow()
        self.changed.set()
        return True

    @property
    def answered(self) -> bool:
        return self.final is not None and 200 <= self.final < 300

    async def wait(self, timeout: float, ended: asyncio.Event, *, until_ringing: bool) -> None:
        """Return on a final status (or, with `until_ringing`, the destination ringing), the
        call's end, or after `timeout` seconds, whichever is first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.final is None and not (until_ringing and self.ringing):
            left = deadline - loop.time()
            if ended.is_set() or left <= 0:
                return
            self.changed.clear()
            news = asyncio.ensure_future(self.changed.wait())
            gone = asyncio.ensure_future(ended.wait())
            try:
                await asyncio.wait({news, gone}, timeout=left, return_when=asyncio.FIRST_COMPLETED)
            finally:
                news.cancel()
                gone.cancel()
