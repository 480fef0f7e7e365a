"""The pages' languages: Vietnamese first, English by the user's choice, more by catalogue.

Templates write their Vietnamese text inside `_()` (`{{ _("Đăng xuất") }}`); that text is the
message id and is shown as it is in Vietnamese. Another language is a catalogue per domain,
`src/hotline/<domain>/locale/<code>.po` (GNU gettext PO, read with Babel), so adding a
language touches catalogues only, never a template, and two domains never edit one file.
`tests/web/test_i18n.py` checks that every `_()` of every template has its English.

The language is the `lang` cookie when it names a known one, else Vietnamese, whatever the
browser asks for (office PCs and kiosks often run an English browser for Vietnamese
users). The cookie is set by `POST /lang` (a form with the CSRF token: a page may not change
a user's settings for them).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po
from fastapi import Request
from jinja2 import pass_context
from jinja2.runtime import Context

from hotline.directory.models import Category
from hotline.directory.service import category_name as _category_name
from hotline.messages import Message, shown

DEFAULT = "vi"
# Code -> the language's own name, as the switch shows it.
LANGUAGES = {"vi": "Tiếng Việt", "en": "English"}
COOKIE = "lang"
PACKAGE = Path(__file__).resolve().parents[1]


@cache
def catalogue(code: str, domain: str | None = None) -> dict[str, str]:
    """Every domain's translations into `code` (empty for the default language); with
    `domain`, that domain's own translation wins where two domains translate one
    Vietnamese text differently (the same words in two senses)."""
    found: dict[str, str] = {}
    if code == DEFAULT:
        return found
    if domain is not None:
        return {**catalogue(code), **_read(PACKAGE / domain / "locale" / f"{code}.po", code)}
    for path in sorted(PACKAGE.glob(f"*/locale/{code}.po")):
        found.update(_read(path, code))
    return found


def _read(path: Path, code: str) -> dict[str, str]:
    found: dict[str, str] = {}
    if not path.exists():
        return found
    with path.open("rb") as f:
        for message in read_po(f, locale=code):
            if message.id and isinstance(message.id, str) and message.string:
                found[message.id] = str(message.string)
    return found


def language_of(request: Request) -> str:
    chosen = request.cookies.get(COOKIE)
    return str(chosen) if chosen in LANGUAGES else DEFAULT


def translator(code: str, domain: str | None = None) -> Callable[..., str]:
    table = catalogue(code, domain)

    def render(template: str, values: dict[str, Any]) -> str:
        text = table.get(template, template)
        if not values:
            return text
        return text.format(**shown({k: translated(v) for k, v in values.items()}))

    def translated(value: Any) -> Any:
        if isinstance(value, Message):
            return render(value.template, value.values)
        if isinstance(value, tuple):
            return tuple(translated(v) for v in value)
        return value

    def gettext(message: str, /, **values: Any) -> str:
        if isinstance(message, Message) and not values:
            return render(message.template, message.values)
        return render(message, values)

    return gettext


@pass_context
def finalize(context: Context, value: Any) -> Any:
    """Jinja's hook on every `{{ … }}`: a `Message` built in Python (an error from a service,
    a status label) is shown in the page's language, so templates print them as they are."""
    if isinstance(value, Message):
        gettext = context.get("_")
        if gettext is not None:
            return gettext(value)
    return value


@pass_context
def number(context: Context, value: Any, decimals: int = 0) -> str:
    """A figure in the page's language: Vietnamese `1.449` and `92,2`, English `1,449` and
    `92.2` (the `number` filter; `None` shows as a dash)."""
    if value is None:
        return "—"
    text = f"{value:,.{decimals}f}"
    if context.get("lang", DEFAULT) == "en":
        return text
    return text.translate(str.maketrans(",.", ".,"))


@pass_context
def category_name(context: Context, category: Category) -> str:
    """A category's name in the page's language (the `category_name` filter:
    `{{ c|category_name }}`; directory.service.category_name's rule)."""
    return _category_name(category, context.get("lang", DEFAULT))


def template_context(request: Request, domain: str | None = None) -> dict[str, Any]:
    """What every page template gets (web/page.py installs it): `_` (the page's domain's
    own translations first), the language and the choice of languages."""
    code = language_of(request)
    return {"_": translator(code, domain), "lang": code, "languages": LANGUAGES}
