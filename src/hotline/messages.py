"""Text built in Python that a page may show in another language.

Services write their messages in Vietnamese (the product's first language) with `msg()`:
the template is the catalogue's message id and the values fill it, so a page in English
translates the template and then fills it, while the API and the CLI show the Vietnamese
text the `Message` already is (it is a `str`). Values that are messages themselves (a status
label inside an error) are translated too, and a tuple of values is shown as a list
("A, B"). web/i18n.py does the translating;
tests/web/test_i18n.py checks every message has its English.
"""

from __future__ import annotations

from typing import Any


class Message(str):
    """Vietnamese text that remembers its template and values."""

    template: str
    values: dict[str, Any]

    def __new__(cls, template: str, /, **values: Any) -> Message:
        text = template.format(**shown(values)) if values else template
        self = super().__new__(cls, text)
        self.template = template
        self.values = values
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.template, self.values))


def shown(values: dict[str, Any]) -> dict[str, Any]:
    """The values as the text shows them: a tuple as its items separated by commas."""
    return {
        k: ", ".join(str(x) for x in v) if isinstance(v, tuple) else v for k, v in values.items()
    }


def _rebuild(template: str, values: dict[str, Any]) -> Message:
    return Message(template, **values)


def msg(template: str, /, **values: Any) -> Message:
    """A message for a user: `msg("Không có đơn vị mã {code}", code=code)`."""
    return Message(template, **values)
