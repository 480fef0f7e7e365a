"""The phone configuration's forms: one form for every kind of object, turned into the
body the service validates (the same `put_item` as the API), and the service's field names
turned back into the form's (`options[2].digit` is the third row's key field)."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from hotline.errors import DomainError
from hotline.messages import msg
from hotline.phoneconfig import service
from hotline.phoneconfig.schemas import Destination, Line, Menu, MenuOption, PromptText, Queue
from hotline.web.forms import PageForm

# The URL's word for each kind (as the API's), and back.
KIND_OF = {"lines": "line", "menus": "menu", "destinations": "destination", "queues": "queue"}
KIND_OF["prompts"] = "prompt"
PATH_OF = {kind: path for path, kind in KIND_OF.items()}
MAX_OPTIONS = 12
# Every place a refusal can be shown; any other goes to the top of the form.
FIELDS = frozenset(
    {"key", "menu", "record", "greeting", "options", "repeats", "digit_timeout"}
    | {"fallback_queue", "uri", "refer", "outcome", "label", "hours", "callback_after", "text"}
    | {"fallback_after", "progress_after", "ring_seconds"}
    | {f"{name}-{i}" for name in ("digit", "target") for i in range(MAX_OPTIONS)}
)
_OPTION = re.compile(r"^options\[(\d+)\](?:\.(\w+))?$")
_WINDOW = re.compile(r"^hours\[(\d+)\]$")


class PhoneForm(PageForm):
    """The fields of every kind; each kind reads its own."""

    version: str = ""  # the object's version the page showed
    key: str = ""  # a new object's name (or number)
    menu: str = ""
    record: str = ""
    greeting: str = ""
    digit: list[str] = []  # the menu's rows: a key and where it sends the caller
    target: list[str] = []  # "destination:<name>", "queue:<name>", "menu:<name>", "voicemail:"
    repeats: str = ""
    digit_timeout: str = ""
    fallback_queue: str = ""
    uri: str = ""
    refer: str = ""
    outcome: str = ""
    fallback_after: str = ""
    progress_after: str = ""
    ring_seconds: str = ""
    label: str = ""
    hours_mode: str = ""  # "always" (open all day) or "windows" (the lines of `hours`)
    hours: str = ""
    callback_after: str = ""
    text: str = ""

    def expected_version(self) -> int:
        """The version the page showed; anything else is -1, which is never current."""
        return int(self.version) if self.version.strip().isdigit() else -1

    def windows(self) -> list[str]:
        return [line.strip() for line in self.hours.splitlines() if line.strip()]

    def options(self) -> tuple[list[dict[str, Any]], list[int]]:
        """The menu's filled rows as options, and the row each came from."""
        options: list[dict[str, Any]] = []
        rows: list[int] = []
        for row, (digit, target) in enumerate(zip(self.digit, self.target, strict=False)):
            if not digit.strip() and not target.strip():
                continue
            kind, _, name = target.partition(":")
            option: dict[str, Any] = {"digit": digit.strip()}
            if kind in ("destination", "queue", "menu") and name:
                option[kind] = name
            elif kind == "voicemail":
                option["voicemail"] = True
            options.append(option)
            rows.append(row)
        return options, rows

    def data(self, kind: str) -> dict[str, Any]:
        """The body of `put_item` for this kind; the service checks every value."""
        if kind == "line":
            return {"menu": self.menu, "record": self.record == "1"}
        if kind == "menu":
            return {
                "greeting": self.greeting,
                "options": self.options()[0],
                "repeats": self.repeats.strip(),
                "digit_timeout": self.digit_timeout.strip().replace(",", "."),
                "fallback_queue": self.fallback_queue,
            }
        if kind == "destination":
            body: dict[str, Any] = {
                "uri": self.uri.strip(),
                "refer": self.refer == "1",
                "outcome": self.outcome,
            }
            for name in ("fallback_after", "progress_after", "ring_seconds"):
                value = getattr(self, name).strip()
                if value:  # left empty: the default
                    body[name] = value.replace(",", ".")
            return body
        if kind == "queue":
            return {
                "label": self.label.strip(),
                "hours": None if self.hours_mode == "always" else self.windows(),
                "callback_after": self.callback_after.strip().replace(",", "."),
                "record": self.record == "1",
            }
        raise ValueError(kind)

    def place(self, kind: str, exc: DomainError) -> None:
        """Name the form's field in a refusal of this form's body (and say which line of
        the opening hours it is about)."""
        field = exc.field or ""
        if field == service.KINDS[kind][2]:
            exc.field = "key"
        elif match := _OPTION.match(field):
            rows = self.options()[1]
            index = int(match.group(1))
            row = rows[index] if index < len(rows) else index
            exc.field = f"digit-{row}" if match.group(2) == "digit" else f"target-{row}"
        elif match := _WINDOW.match(field):
            exc.field = "hours"
            exc.detail = msg(
                "{window}: {problem}",
                window=self.windows()[int(match.group(1))],
                problem=exc.detail,
            )
        elif field == "version":
            exc.field = "form"


def shown(kind: str, obj: BaseModel | None) -> dict[str, Any]:
    """An object's settings as its form shows them (a new one's: the schema's defaults)."""
    if kind == "line":
        line = obj if isinstance(obj, Line) else None
        return {"menu": line.menu if line else "main", "record": _box(line and line.record)}
    if kind == "menu":
        menu = obj if isinstance(obj, Menu) else None
        return {
            "greeting": menu.greeting if menu else "greeting",
            "digit": [o.digit for o in menu.options] if menu else [],
            "target": [_target(o) for o in (menu.options if menu else [])],
            "repeats": str(menu.repeats if menu else 2),
            "digit_timeout": f"{menu.digit_timeout if menu else 5.0:g}",
            "fallback_queue": menu.fallback_queue if menu else "operator",
        }
    if kind == "destination":
        dest = obj if isinstance(obj, Destination) else None
        return {
            "uri": dest.uri if dest else "",
            "refer": _box(dest.refer if dest else True),
            "outcome": dest.outcome if dest else "transferred_cdc",
            "fallback_after": f"{dest.fallback_after if dest else 3.0:g}",
            "progress_after": f"{dest.progress_after if dest else 4.0:g}",
            "ring_seconds": f"{dest.ring_seconds if dest else 30.0:g}",
        }
    if kind == "queue":
        queue = obj if isinstance(obj, Queue) else None
        hours = queue.hours if queue else None
        return {
            "label": queue.label if queue else "",
            "hours_mode": "always" if hours is None else "windows",
            "hours": "\n".join(hours or []),
            "callback_after": f"{queue.callback_after if queue else 60.0:g}",
            "record": _box(queue and queue.record),
        }
    prompt = obj if isinstance(obj, PromptText) else None
    return {"text": prompt.text if prompt else ""}


def _target(option: MenuOption) -> str:
    """A menu row's choice as the form's select names it."""
    if option.voicemail:
        return "voicemail:"
    for kind in ("destination", "queue", "menu"):
        if (name := getattr(option, kind)) is not None:
            return f"{kind}:{name}"
    return ""


def _box(checked: object) -> str:
    return "1" if checked else ""
