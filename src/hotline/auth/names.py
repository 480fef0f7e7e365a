"""Staff names as kept: they appear on rosters, swap lists, case trails and the console, so a
name may not hide characters (bidi overrides, zero-width marks) any more than a citizen's."""

from __future__ import annotations

from hotline.errors import InvalidInput
from hotline.messages import msg
from hotline.text import hidden_characters, tidy


def staff_name(raw: str, *, field: str = "full_name") -> str:
    """The name tidied; 422 naming `field` when it hides characters."""
    name = tidy(raw)
    bad = hidden_characters(name)
    if bad:
        raise InvalidInput(
            msg("Họ tên chứa ký tự điều khiển hoặc ký tự ẩn: {chars}", chars=bad), field=field
        )
    return name[:200]
