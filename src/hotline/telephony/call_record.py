"""A finished call as the line records it: the row's values (`new_call`) and the spooled
form of a record (`Entry`, JSON in the spool's files)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from hotline.calls.models import CallOutcome
from hotline.calls.service import NewCall
from hotline.calls.transfers import NewAttempt
from hotline.care.consult_windows import ConsultWindow
from hotline.db import utcnow
from hotline.recordings.service import RecordedFile
from hotline.telephony.backend import CallProgress
from hotline.telephony.transfer import settle

# Refused at the door: the call never started (the reports' failed attempts).
REFUSALS = frozenset({"over_capacity", "no_media_port", "codec_not_acceptable"})


def whole_seconds(start: datetime, end: datetime) -> int:
    """Whole seconds, rounded (18.996 s is 19, not 18)."""
    return max(0, int((end - start).total_seconds() + 0.5))


def new_call(progress: CallProgress) -> NewCall:
    """The call record for a finished call. A call nobody took is abandoned where the caller
    left it; one the line ended first (media timeout, shutdown) is dropped, not abandoned."""
    ended = progress.ended_at or utcnow()
    outcome = progress.outcome
    wait = 0
    if progress.queued_at is not None:
        # The wait ends when an operator answers, else when the caller leaves.
        wait = whole_seconds(progress.queued_at, progress.agent_answered_at or ended)
    settle(progress, ended)
    kept = (CallOutcome.ANSWERED.value, CallOutcome.CALLBACK_REQUESTED.value)
    if progress.transfer_failed and outcome not in kept:
        # Not an abandoned operator call: the destination (115) could not be reached.
        outcome = CallOutcome.TRANSFER_FAILED.value
    if outcome is None:
        if progress.release_cause in REFUSALS:
            outcome = CallOutcome.FAILED.value
        elif progress.ended_by not in (None, "caller"):
            outcome = CallOutcome.DROPPED.value
        else:
            outcome = (
                CallOutcome.ABANDONED_QUEUE if progress.queued_at else CallOutcome.ABANDONED_MENU
            ).value
    return NewCall(
        line=progress.line,
        caller=progress.caller,
        started_at=progress.started_at,
        # answered_at means a person (an operator) answered, not the voice menu.
        answered_at=progress.agent_answered_at,
        ended_at=ended,
        menu_path=progress.menu_path[:40],
        branch=progress.branch,
        queue_wait_seconds=wait,
        talk_seconds=talk_seconds(progress, ended),
        operator_id=progress.operator_id,
        outcome=outcome,
        queued_at=progress.queued_at,
        sip_call_id=progress.sip_call_id or None,
        trunk=progress.trunk or None,
        codec=progress.codec or None,
        sip_status=progress.sip_status,
        ended_by=progress.ended_by,
        release_cause=progress.release_cause,
        record_key=progress.record_key,
    )


def talk_seconds(progress: CallProgress, ended: datetime) -> int:
    """From when an operator answered, or when a bridged destination did."""
    start = progress.agent_answered_at or progress.bridged_at
    return 0 if start is None else whole_seconds(start, ended)


@dataclasses.dataclass
class CallbackTry:
    """A callback the line dialled, written with its call record (callbacks.py): the
    `callback_attempt` row, the callback's next try or end, and for a consult callback
    (`request_id`) the consult request's move (care/consult_dialling.py)."""

    callback_id: int
    result: str  # CallbackResult
    started_at: datetime
    ended_at: datetime
    rung: int  # the operator or doctor the try was for
    operator_id: int | None  # who talked with the citizen (connected only)
    max_attempts: int
    retry_after: float
    request_id: int | None = None


@dataclasses.dataclass
class Entry:
    """A finished call on its way to the spool."""

    call: NewCall
    consult: ConsultWindow | None = None
    consult_due: datetime | None = None
    recorded: RecordedFile | None = None
    # Each try at putting the caller through (transfer.py), in order.
    attempts: list[NewAttempt] = dataclasses.field(default_factory=list)
    # A message left in a queue's voicemail: a case of this category (None: triage).
    voicemail: bool = False
    voicemail_category: str | None = None
    # A callback the line dialled: this record is that try's outbound call.
    callback: CallbackTry | None = None

    def dump(self) -> dict[str, Any]:
        return _json(dataclasses.asdict(self))

    @classmethod
    def load(cls, raw: dict[str, Any]) -> Entry:
        call = NewCall(**_times(raw["call"]))
        consult = raw.get("consult")
        window = None
        if consult is not None:
            c = _times(consult)
            window = ConsultWindow(c["starts_at"], c["ends_at"], tuple(c["doctor_ids"]))
        recorded = raw.get("recorded")
        tried = raw.get("callback")
        return cls(
            call=call,
            consult=window,
            consult_due=_time(raw.get("consult_due")),
            recorded=RecordedFile(**recorded) if recorded else None,
            attempts=[NewAttempt(**_times(a)) for a in raw.get("attempts", [])],
            voicemail=bool(raw.get("voicemail", False)),
            voicemail_category=raw.get("voicemail_category"),
            callback=CallbackTry(**_times(tried)) if tried else None,
        )


@dataclasses.dataclass
class Amendment:
    """An attempt changed after its call's record was handed over (transfer.py: a REFER's
    final report after the call ended). Spooled after the record and applied to the row
    only from the result it had (`was`), so a replay changes nothing."""

    record_key: str
    seq: int  # the attempt's place on the call, from 1 (calls/transfers.py add_attempts)
    was: str
    result: str
    sip_status: int | None
    ended_at: datetime | None

    def dump(self) -> dict[str, Any]:
        return {"amend": _json(dataclasses.asdict(self))}

    @classmethod
    def load(cls, raw: dict[str, Any]) -> Amendment:
        return cls(**_times(raw["amend"]))


def _json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return value.isoformat() if isinstance(value, datetime) else value


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


_TIME_FIELDS = {"started_at", "answered_at", "ended_at", "queued_at", "starts_at", "ends_at"}


def _times(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: _time(v) if k in _TIME_FIELDS else v for k, v in raw.items()}
