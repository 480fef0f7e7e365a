"""The shapes of the phone configuration: what is stored, what the API takes and returns."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from hotline.types import INT32_MAX

NAME = r"^[a-z0-9_]{1,20}$"
TransferOutcome = Literal["transferred_115", "transferred_cdc"]


class Destination(BaseModel):
    """Where a menu option sends the caller: a SIP URI, by REFER (blind transfer) or bridged."""

    name: str = Field(pattern=NAME)
    uri: str = Field(min_length=5, max_length=200)
    refer: bool = True  # False: the line calls the destination and bridges the audio itself
    outcome: TransferOutcome = "transferred_cdc"  # what the call record says once transferred
    # Seconds from the caller's key the REFER may take to be accepted (202) before the line
    # calls the destination itself and bridges.
    fallback_after: float = Field(default=3.0, ge=0.5, le=30.0)
    # Seconds from the 202 for a NOTIFY showing the destination ringing or answering (a
    # sipfrag 180/183/200; `100 Trying` is no progress) before the line calls it itself.
    progress_after: float = Field(default=4.0, ge=0.5, le=30.0)
    # Seconds the destination may ring: by REFER (from the NOTIFY saying so) before the line
    # gives up on the REFER and calls it itself; called by the line, before it gives up on
    # that call too (the caller then waits for an operator).
    ring_seconds: float = Field(default=30.0, ge=1.0, le=120.0)


class Target(BaseModel):
    """Where a caller goes next: exactly one of a destination (a SIP address), a queue, a
    sub-menu, or voicemail (a recorded message that becomes a case)."""

    destination: str | None = None
    queue: str | None = None
    menu: str | None = None
    voicemail: bool = False


class MenuOption(Target):
    digit: str = Field(pattern=r"^[0-9*#]$")


class Menu(BaseModel):
    name: str = Field(pattern=NAME)
    greeting: str = Field(default="greeting", pattern=NAME)  # a prompt's name
    options: list[MenuOption] = Field(min_length=1, max_length=12)
    repeats: int = Field(default=2, ge=0, le=5)
    digit_timeout: float = Field(default=5.0, gt=0, le=30.0)
    fallback_queue: str = Field(default="operator", pattern=NAME)  # no key or a wrong one
    # Played before the greeting while the line is in surge mode (None: nothing).
    surge_prompt: str | None = Field(default="surge_menu", pattern=NAME)


class Line(BaseModel):
    """A dialled number (the Request-URI's user part) and the menu it plays."""

    number: str = Field(pattern=r"^[0-9A-Za-z+*#_-]{1,20}$")
    menu: str = Field(pattern=NAME)
    record: bool = False  # announce and record every call to this number


# A unit's or category's code as the directory keeps it (no control characters); a skill as
# agents/service.py's SKILL.
Code = Annotated[str, StringConstraints(pattern=r"^[^\x00-\x1f]{1,40}$")]
Skill = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,30}$")]
ROLES = Literal["admin", "supervisor", "operator", "unit_officer", "doctor"]
# Who answered a queue before queues were configured: a stored queue without `members`
# keeps them (a row saved by an earlier version).
LEGACY_MEMBERS: dict[str, list[str]] = {
    "operator": ["operator", "supervisor"],
    "doctor": ["doctor"],
}


class Members(BaseModel):
    """Who a queue rings: anyone who matches one of the lists (a role, a unit's code, or one
    of the skills on their phone account)."""

    roles: list[ROLES] = Field(default_factory=list, max_length=5)
    units: list[Code] = Field(default_factory=list, max_length=50)
    skills: list[Skill] = Field(default_factory=list, max_length=20)


class Queue(BaseModel):
    """A queue of callers (the call record's branch): who answers it, when, what callers
    hear, callbacks, and where callers go when it is closed or they wait too long."""

    name: str = Field(pattern=NAME)
    label: str = Field(min_length=1, max_length=80)  # said in the hours prompt
    hours: list[str] | None = None  # "HH:MM-HH:MM" windows; None: open all day, every day
    members: Members = Field(default_factory=Members)
    announcement: str = Field(default="queue", pattern=NAME)  # a prompt, heard on joining
    callback_after: float = Field(default=60.0, gt=0, le=3600.0)
    callback_offer: bool = True  # offer a callback (press 1) after `callback_after`
    # The line dials a promised callback when a member is free: this many tries, so far apart.
    callback_attempts: int = Field(default=3, ge=1, le=10)
    callback_retry_after: float = Field(default=300.0, ge=10.0, le=86_400.0)
    record: bool = False  # announce and record calls from when they join this queue
    # Where callers go outside the hours, when no member is on duty, or after
    # `overflow_after` seconds of waiting; None: hours said, callback offered (outside
    # hours), and callers wait however long it takes.
    overflow: Target | None = None
    overflow_after: float | None = Field(default=None, gt=0, le=3600.0)
    category: Code | None = None  # the category of the case a voicemail becomes

    @model_validator(mode="before")
    @classmethod
    def _legacy_members(cls, data: Any) -> Any:
        if isinstance(data, dict) and "members" not in data and data.get("name") in LEGACY_MEMBERS:
            return {**data, "members": {"roles": LEGACY_MEMBERS[data["name"]]}}
        return data


class Upload(BaseModel):
    storage_name: str
    sha256: str
    size: int
    seconds: float
    uploaded_at: datetime


class PromptText(BaseModel):
    name: str = Field(pattern=NAME)
    text: str = Field(min_length=1, max_length=1000)
    upload: Upload | None = None  # a recorded WAV heard instead of the synthesised text


class PhoneConfig(BaseModel):
    """Everything the line needs; unknown dialled numbers get the menu named `main`."""

    lines: list[Line]
    menus: list[Menu]
    destinations: list[Destination]
    queues: list[Queue]
    prompts: list[PromptText]


# -- the API's bodies: the object plus the version it was read at -----------------------------
class Versioned(BaseModel):
    version: int = Field(ge=0, le=INT32_MAX)


class LineIn(Versioned):
    menu: str = Field(pattern=NAME)
    record: bool = False


class MenuIn(Versioned):
    greeting: str = Field(default="greeting", pattern=NAME)
    options: list[MenuOption] = Field(min_length=1, max_length=12)
    repeats: int = Field(default=2, ge=0, le=5)
    digit_timeout: float = Field(default=5.0, gt=0, le=30.0)
    fallback_queue: str = Field(default="operator", pattern=NAME)
    surge_prompt: str | None = Field(default="surge_menu", pattern=NAME)


class DestinationIn(Versioned):
    uri: str = Field(min_length=5, max_length=200)
    refer: bool = True
    outcome: TransferOutcome = "transferred_cdc"
    fallback_after: float = Field(default=3.0, ge=0.5, le=30.0)
    progress_after: float = Field(default=4.0, ge=0.5, le=30.0)
    ring_seconds: float = Field(default=30.0, ge=1.0, le=120.0)


class QueueIn(Versioned):
    label: str = Field(min_length=1, max_length=80)
    hours: list[str] | None = None
    members: Members | None = None  # left out: the queue keeps whom it rings
    announcement: str = Field(default="queue", pattern=NAME)
    callback_after: float = Field(default=60.0, gt=0, le=3600.0)
    callback_offer: bool = True
    callback_attempts: int = Field(default=3, ge=1, le=10)
    callback_retry_after: float = Field(default=300.0, ge=10.0, le=86_400.0)
    record: bool = False
    overflow: Target | None = None
    overflow_after: float | None = Field(default=None, gt=0, le=3600.0)
    category: Code | None = None


class QueueNew(QueueIn):
    """A new queue: its name in the body, no version (there is none yet)."""

    name: str = Field(pattern=NAME)
    version: int = Field(default=0, ge=0, le=0)


class PromptTextIn(Versioned):
    text: str = Field(min_length=1, max_length=1000)


class ItemOut(BaseModel):
    kind: str
    key: str
    version: int
    data: dict[str, object]


class ConfigOut(BaseModel):
    version: int  # the whole configuration's: the line reloads when it changes
    lines: list[ItemOut]
    menus: list[ItemOut]
    destinations: list[ItemOut]
    queues: list[ItemOut]
    prompts: list[ItemOut]


class ChangeOut(BaseModel):
    id: int
    at: datetime
    user_id: int | None
    kind: str
    key: str
    action: str
    before: dict[str, object] | None
    after: dict[str, object] | None
