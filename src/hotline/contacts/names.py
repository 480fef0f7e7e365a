"""Names staff type for a citizen: a contact's name, a channel identity's display name, the
reporter of a new case. Kept tidy (NFC, spacing collapsed) and refused, naming the field,
with control or format characters, as home care refuses them (care/registration.py): a
zero-width space would make a second record of one person, a bidi override (U+202E) would
show the name reversed. Names a provider sends are stripped instead (channels/citizens.py).
"""

from __future__ import annotations

from hotline.errors import InvalidInput
from hotline.messages import msg
from hotline.text import hidden_characters, tidy


def person_name(raw: str, *, field: str) -> str:
    """A citizen's name as kept; 422 naming `field` when it hides characters."""
    name = tidy(raw)
    bad = hidden_characters(name)
    if bad:
        raise InvalidInput(
            msg("Họ tên chứa ký tự điều khiển hoặc ký tự ẩn: {chars}", chars=bad), field=field
        )
    return name


def display_name(raw: str, *, field: str = "display_name") -> str:
    """A channel identity's display name as kept; 422 naming `field` when it hides
    characters."""
    name = tidy(raw)
    bad = hidden_characters(name)
    if bad:
        raise InvalidInput(
            msg("Tên hiển thị chứa ký tự điều khiển hoặc ký tự ẩn: {chars}", chars=bad),
            field=field,
        )
    return name
