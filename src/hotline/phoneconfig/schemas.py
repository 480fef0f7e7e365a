"""The shapes of the phone configuration: what is stored, what the API takes and returns."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from hotline.types import INT32_MAX

NAME = r"^[a-z0-9_]{1,20}$"
TransferOutcome = Literal["transferred_115", "transferred_cdc"]


class Destination(BaseModel):
    """Where a menu option sends the caller: a SIP URI, by REFER (blind transfer) or bridged."""

    name: str = Field(pattern=NAME)
    uri: str = Field(min_length=5, max_length=200)
    refer: bool = True  # False: the line calls the destination and bridges the audio itself
    outcome: TransferOutcome = "transferred_cdc"  # what the call record says once transferred
    # Seconds from the caller's key the REFER may take (accepted, or the destination
    # answering) before the line calls the destination itself and bridges.
    fallback_after: float = Field(default=3.0, ge=0.5, le=30.0)


class MenuOption(BaseModel):
    digit: str = Field(pattern=r"^[0-9*#]$")
    destination: str | None = None  # exactly one of destination / queue
    queue: str | None = None


class Menu(BaseModel):
    name: str = Field(pattern=NAME)
    greeting: str = Field(default="greeting", pattern=NAME)  # a prompt's name
    options: list[MenuOption] = Field(min_length=1, max_length=12)
    repeats: int = Field(default=2, ge=0, le=5)
    digit_timeout: float = Field(default=5.0, gt=0, le=30.0)
    fallback_queue: str = Field(default="operator", pattern=NAME)  # no key or a wrong one


class Line(BaseModel):
    """A dialled number (the Request-URI's user part) and the menu it plays."""

    number: str = Field(pattern=r"^[0-9A-Za-z+*#_-]{1,20}$")
    menu: str = Field(pattern=NAME)
    record: bool = False  # announce and record every call to this number


class Queue(BaseModel):
    """An operator queue (the call record's branch) and its opening hours, local time."""

    name: str = Field(pattern=NAME)
    label: str = Field(min_length=1, max_length=80)  # said in the hours prompt
    hours: list[str] | None = None  # "HH:MM-HH:MM" windows; None: open all day, every day
    callback_after: float = Field(default=60.0, gt=0, le=3600.0)
    record: bool = False  # announce and record calls from when they join this queue


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


class DestinationIn(Versioned):
    uri: str = Field(min_length=5, max_length=200)
    refer: bool = True
    outcome: TransferOutcome = "transferred_cdc"
    fallback_after: float = Field(default=3.0, ge=0.5, le=30.0)


class QueueIn(Versioned):
    label: str = Field(min_length=1, max_length=80)
    hours: list[str] | None = None
    callback_after: float = Field(default=60.0, gt=0, le=3600.0)
    record: bool = False


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
