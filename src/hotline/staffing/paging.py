"""Cursor paging of the staffing lists (volunteers, swaps, notices), newest first, as the
other lists of the API page (`?limit=&cursor=`, answered `{"items", "next_cursor"}`). The
cursor is opaque to clients: the last id of the page, base64url-encoded JSON."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.errors import InvalidInput

DEFAULT_LIMIT, MAX_LIMIT = 50, 200
T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([last_id]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        (last_id,) = json.loads(raw)
        if not isinstance(last_id, int) or isinstance(last_id, bool):
            raise ValueError("cursor id")
        return last_id
    except (ValueError, TypeError):
        raise InvalidInput("Con trỏ phân trang không hợp lệ", field="cursor") from None


async def newest_first(
    session: AsyncSession, stmt: Select[Any], id_column: Any, *, cursor: str | None, limit: int
) -> Page[Any]:
    """One page of `stmt`'s rows (one entity each), by `id_column` descending, after
    `cursor`; `limit` is clamped to 1..MAX_LIMIT."""
    limit = max(1, min(limit, MAX_LIMIT))
    if cursor:
        stmt = stmt.where(id_column < decode_cursor(cursor))
    rows = list((await session.scalars(stmt.order_by(id_column.desc()).limit(limit + 1))).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor(rows[-1].id) if more else None)
