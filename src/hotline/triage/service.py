"""Triage verbs: classify a text, train a new model version, choose the active version."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import anyio
import sklearn
import structlog
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.audit import record_change
from hotline.auth.permissions import Permission, require
from hotline.auth.service import SYSTEM, Actor
from hotline.directory.service import category_name, list_categories
from hotline.errors import InvalidInput, NotFound
from hotline.messages import msg
from hotline.site import site_of
from hotline.triage import lexicon
from hotline.triage.corpus import Example, split_corpus
from hotline.triage.evaluate import evaluate
from hotline.triage.model import TriageModel, UntrustedModel, fit
from hotline.triage.models import TriageModel as TriageModelRow
from hotline.triage.quote import quote_reasons

MAX_TEXT = 5000
# Statuses in which staff have confirmed the category by finishing the case.

# Loaded models, per process, keyed by the blob's checksum (a version number alone is not
# unique across databases). A few versions at most are ever loaded.
_LOADED: dict[str, TriageModel] = {}
MAX_LOADED = 4
log = structlog.get_logger("hotline.triage")
# Versions activated by this process: what keeps a model (triage/intake.py) checks it.
_activations = 0


def activations() -> int:
    """How many times this process activated a model version."""
    return _activations


@dataclass
class Suggestion:
    category: str
    confidence: float
    urgent: bool
    reasons: list[dict[str, str | None]]
    model_version: int | None = None
    category_name: str | None = None
    alternatives: list[dict[str, Any]] = field(default_factory=list)


def suggest(
    model: TriageModel,
    text: str,
    *,
    version: int | None = None,
    allowed: set[str] | None = None,
    names: dict[str, str] | None = None,
) -> Suggestion:
    """Category, confidence and urgency for one text; the rules and the model both flag."""
    text = text.strip()
    if not text:
        raise InvalidInput("Nội dung không được để trống", field="text")
    if len(text) > MAX_TEXT:
        raise InvalidInput(
            msg("Nội dung dài quá {max_text} ký tự", max_text=MAX_TEXT), field="text"
        )
    pred = model.predict(text, allowed=allowed)
    category, confidence = pred.ranked[0]
    reasons: list[dict[str, str | None]] = [
        {"kind": "rule", "code": h.code, "label": h.label, "phrase": h.phrase}
        for h in lexicon.scan(text)
    ]
    urgent = bool(reasons)
    if pred.urgent_probability >= model.urgent_threshold:
        urgent = True
        reasons.append(
            {
                "kind": "model",
                "code": "model_urgent",
                "label": msg(
                    "Mô hình: khả năng khẩn cấp {percent}%",
                    percent=round(pred.urgent_probability * 100),
                ),
                "phrase": ", ".join(pred.urgent_phrases),
            }
        )
    if pred.category_phrases:
        reasons.append(
            {
                "kind": "category",
                "code": category,
                "label": msg(
                    "Từ ngữ gợi ý danh mục {category}",
                    category=(names or {}).get(category, category),
                ),
                "phrase": ", ".join(pred.category_phrases),
            }
        )
    return Suggestion(
        category=category,
        confidence=round(confidence, 4),
        urgent=urgent,
        reasons=quote_reasons(text, reasons),
        model_version=version,
        category_name=names.get(category) if names else None,
        alternatives=[{"category": c, "confidence": round(p, 4)} for c, p in pred.ranked[1:4]],
    )


async def classify(
    session: AsyncSession, *, actor: Actor, text: str, language: str = "vi"
) -> Suggestion:
    """Suggest with the active model, among the site's active categories, for hotline
    staff; categories named in `language` (the reasons' labels are messages). Writes
    nothing."""
    require(actor, Permission.USE_SUGGESTIONS, "Chỉ nhân viên tổng đài dùng được gợi ý phân loại")
    if not text.strip():
        raise InvalidInput("Nội dung không được để trống", field="text")
    version, model = await active_model(session)
    categories = await list_categories(session)
    names = {c.code: category_name(c, language) for c in categories}
    return suggest(model, text, version=version, allowed=set(names) or None, names=names)


async def active_model(session: AsyncSession) -> tuple[int | None, TriageModel]:
    """The administrator's chosen version, loaded once per process.

    Without any stored version, a model trained in memory from the shipped corpus stands in
    (version None) so suggestions work on a fresh install; `hotline triage train` stores one.
    """
    row = (
        await session.execute(
            select(TriageModelRow.version, TriageModelRow.checksum).where(TriageModelRow.active)
        )
    ).first()
    if row is None:
        return None, await anyio.to_thread.run_sync(corpus_model)
    version, checksum = row
    model = _LOADED.get(checksum)
    if model is None:
        blob = await session.scalar(
            select(TriageModelRow.blob).where(TriageModelRow.version == version)
        )
        try:
            model = TriageModel.from_signed_bytes(blob or b"", site_of(session).model_key)
        except UntrustedModel as exc:
            # Written by someone without the site's key (or before models were signed, or
            # under another secret key): never unpickled. Retrain to store a signed one.
            log.error("triage_model_untrusted", version=version, error=str(exc))
            return None, await anyio.to_thread.run_sync(corpus_model)
        except Exception as exc:  # e.g. a blob pickled by an incompatible scikit-learn
            # Suggestions must keep working during a surge: say so and use the corpus model.
            log.warning("triage_model_unloadable", version=version, error=repr(exc))
            return None, await anyio.to_thread.run_sync(corpus_model)
        if len(_LOADED) >= MAX_LOADED:
            _LOADED.clear()
        _LOADED[checksum] = model
    return int(version), model


def corpus_model() -> TriageModel:
    """The model of the corpus's training split alone (once per process).

    Intakes arriving together on a fresh install all ask for it: one thread trains it while
    the others wait for that one, rather than each training its own."""
    with _corpus_lock:
        return _corpus_model()


_corpus_lock = threading.Lock()


@cache
def _corpus_model() -> TriageModel:
    train, _ = split_corpus()
    return fit([e.text for e in train], [e.category for e in train], [e.urgent for e in train])


async def train_model(
    session: AsyncSession, *, actor: Actor = SYSTEM, history: Sequence[Example] = ()
) -> TriageModelRow:
    """Train a new version on the corpus's training split plus confirmed history (the
    site's cases: `cases.training.history_examples`), and store it with its metrics on the
    held-out split. The first version ever becomes active (audited as an activation);
    later ones wait for an administrator (activate_model)."""
    require(actor, Permission.MANAGE_TRIAGE_MODELS)
    train, held_out = split_corpus()
    examples = list(train) + list(history)

    key = site_of(session).model_key

    def work() -> tuple[TriageModel, dict[str, Any], bytes]:
        model = fit(
            [e.text for e in examples],
            [e.category for e in examples],
            [e.urgent for e in examples],
        )
        return model, evaluate(model, held_out), model.to_signed_bytes(key)

    model, metrics, blob = await anyio.to_thread.run_sync(work)
    last = await session.scalar(select(func.max(TriageModelRow.version)))
    any_active = await session.scalar(
        select(func.count()).select_from(TriageModelRow).where(TriageModelRow.active)
    )
    checksum = hashlib.sha256(blob).hexdigest()
    row = TriageModelRow(
        version=(last or 0) + 1,
        created_by=actor.username,
        trained_on={
            "corpus": len(train),
            "history": len(history),
            "held_out": len(held_out),
            "scikit_learn": sklearn.__version__,
        },
        metrics=metrics,
        active=not any_active,
        checksum=checksum,
        blob=blob,
    )
    session.add(row)
    if row.active:
        _record_activation(session, actor, None, row.version)
    await session.flush()
    _LOADED[checksum] = model
    return row


def _record_activation(session: AsyncSession, actor: Actor, old: int | None, new: int) -> None:
    record_change(
        session,
        actor=actor,
        kind="triage_model",
        key=new,
        action="activate",
        before={"active_version": old},
        after={"active_version": new},
    )


async def activate_model(session: AsyncSession, *, actor: Actor, version: int) -> TriageModelRow:
    """Make one version the one every suggestion uses (administrators only); audited, with
    the version it replaces. Choosing the version in use changes nothing."""
    require(actor, Permission.MANAGE_TRIAGE_MODELS)
    row = await session.scalar(select(TriageModelRow).where(TriageModelRow.version == version))
    if row is None:
        raise NotFound(
            msg("Không có phiên bản mô hình {version}", version=version), field="version"
        )
    if row.active:
        return row
    previous = await session.scalar(
        select(TriageModelRow.version).where(TriageModelRow.active).limit(1)
    )
    await session.execute(
        update(TriageModelRow)
        .where(TriageModelRow.version != version, TriageModelRow.active)
        .values(active=False)
    )
    row.active = True
    _record_activation(session, actor, previous, version)
    await session.flush()
    global _activations
    _activations += 1
    return row


async def list_models(session: AsyncSession, *, actor: Actor) -> list[TriageModelRow]:
    """Every version with its metrics, newest first (administrators and supervisors)."""
    require(actor, Permission.VIEW_TRIAGE_MODELS)
    stmt = select(TriageModelRow).order_by(TriageModelRow.version.desc())
    return list((await session.scalars(stmt)).all())
