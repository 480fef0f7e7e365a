"""Bulk loading of articles from CSV or JSON, idempotent on the slug.

Loading the same file twice changes nothing; a changed row becomes a new revision (and is
published again if the row says so). Articles a supervisor archived are left archived
unless the file changes their text. One bad row rolls the whole load back.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Actor
from hotline.errors import DomainError, InvalidInput
from hotline.knowledge import service
from hotline.knowledge.models import Article, ArticleStatus
from hotline.messages import msg

IMPORT_NOTE = "Nhập từ tệp"


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    published: int = 0
    unchanged: int = 0


def read_file(path: Path) -> list[dict[str, Any]]:
    """Rows of a .csv (header row, UTF-8 with or without BOM) or .json (a list of objects)."""
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            msg("Không đọc được tệp {path}: {exc}", path=path, exc=exc), field="file"
        ) from None
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise InvalidInput(msg("JSON không hợp lệ: {exc}", exc=exc), field="file") from None
        if isinstance(data, dict):
            data = data.get("articles")
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise InvalidInput("Tệp JSON phải là một danh sách bài", field="file")
        return data
    if path.suffix.lower() == ".csv":
        return list(csv.DictReader(io.StringIO(raw)))
    raise InvalidInput("Chỉ nhận tệp .csv hoặc .json", field="file")


def _date(row: Mapping[str, Any], key: str, where: str) -> date | None:
    value = row.get(key)
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput(
            msg("Ngày không hợp lệ (YYYY-MM-DD): {value}", value=value), field=f"{where}.{key}"
        ) from None


def _text(row: Mapping[str, Any], key: str) -> str:
    value = row.get(key)
    return "" if value is None else str(value)


def _row(row: Mapping[str, Any], where: str) -> tuple[str, service.Content, ArticleStatus]:
    slug = _text(row, "slug").strip()
    if not slug:
        raise InvalidInput("Thiếu mã bài (slug)", field=f"{where}.slug")
    try:
        status = ArticleStatus(_text(row, "status").strip() or "published")
    except ValueError:
        raise InvalidInput(
            "Trạng thái chỉ là draft hoặc published", field=f"{where}.status"
        ) from None
    if status == ArticleStatus.ARCHIVED:
        raise InvalidInput("Trạng thái chỉ là draft hoặc published", field=f"{where}.status")
    content = service.Content(
        question=_text(row, "question"),
        answer=_text(row, "answer"),
        category_code=_text(row, "category").strip() or None,
        source_document=_text(row, "source_document"),
        source_url=_text(row, "source_url").strip() or None,
        valid_from=_date(row, "valid_from", where),
        valid_until=_date(row, "valid_until", where),
    )
    return slug, content, status


async def import_articles(
    session: AsyncSession, *, actor: Actor, rows: Iterable[Mapping[str, Any]]
) -> ImportResult:
    """Create or update articles by slug; errors name the row, e.g. field `rows[3].answer`."""
    result = ImportResult()
    for i, row in enumerate(rows):
        where = f"rows[{i}]"
        try:
            await _import_one(session, actor=actor, row=_row(row, where), result=result)
        except DomainError as exc:
            if exc.field and not exc.field.startswith("rows["):
                exc.field = f"{where}.{exc.field}"
            raise
    return result


async def _import_one(
    session: AsyncSession,
    *,
    actor: Actor,
    row: tuple[str, service.Content, ArticleStatus],
    result: ImportResult,
) -> None:
    slug, content, wanted = row
    article = await session.scalar(select(Article).where(Article.slug == slug))
    if article is None:
        article = await service.create_article(
            session, actor=actor, content=content, slug=slug, note=IMPORT_NOTE
        )
        result.created += 1
    else:
        before = article.version
        changes = {name: getattr(content, name) for name in service.CONTENT_FIELDS}
        await service.update_article(
            session, actor=actor, article=article, changes=changes, note=IMPORT_NOTE
        )
        if article.version == before:
            result.unchanged += 1
            return
        result.updated += 1
    pending = article.status == ArticleStatus.DRAFT or article.draft_version is not None
    if wanted == ArticleStatus.PUBLISHED and pending:
        await service.publish_article(session, actor=actor, article=article, note=IMPORT_NOTE)
        result.published += 1
