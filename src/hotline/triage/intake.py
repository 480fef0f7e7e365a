"""Triage at intake: the category and urgency a new case gets when its intake left them out.

Only what is missing is computed (urgency alone skips the category scores and the reasons),
so an intake that gives both costs nothing here. The active model and the site's categories
are kept per process and database for a short while, so the PostgreSQL fast path, which has
no session, can classify without a query; with nothing kept yet it defers to the session path
(`guess_for`), which loads them.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from dataclasses import dataclass

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.directory.service import list_categories
from hotline.triage import lexicon
from hotline.triage.model import TriageModel
from hotline.triage.normalise import normalise
from hotline.triage.service import MAX_TEXT, activations, active_model

# How long a process keeps using the model and categories it loaded: a category change, or a
# model activated by another process, reaches intake within this time (one activated by this
# process at once).
KEEP_SECONDS = 30.0


@dataclass(frozen=True)
class IntakeGuess:
    """What triage suggests for the fields asked (None for a field not asked or, for the
    category, when no active category fits)."""

    category: str | None
    urgent: bool | None


@dataclass(frozen=True)
class _Loaded:
    until: float
    activations: int
    model: TriageModel
    categories: frozenset[str]


_loaded: dict[str, _Loaded] = {}


def _kept(database: str) -> _Loaded | None:
    kept = _loaded.get(database)
    if kept is None or kept.until < time.monotonic() or kept.activations != activations():
        return None
    return kept


def guess(
    model: TriageModel, categories: frozenset[str], text: str, *, category: bool, urgent: bool
) -> IntakeGuess:
    """The same category and urgency `service.suggest` gives, computing only those asked."""
    text = text.strip()[:MAX_TEXT]
    if not text or not (category or urgent):
        return IntakeGuess(None, None)
    fast = model.compiled()
    normalised = normalise(text)
    row = fast.row(normalised) if category else None
    found_category: str | None = None
    if row is not None:
        probs = fast.category_proba(row)
        ranked = [int(i) for i in np.argsort(-probs, kind="stable")]
        found_category = next(
            (fast.classes[i] for i in ranked if fast.classes[i] in categories), None
        )
    found_urgent: bool | None = None
    if urgent:
        # Urgency alone (the category given): from the text's columns, no row built.
        p = fast.urgent_proba(row) if row is not None else fast.urgent_proba_of(normalised)
        # Urgent when the model or the rule lexicon says so; the model is cheaper, ask it first.
        found_urgent = (p is not None and p >= model.urgent_threshold) or lexicon.is_urgent(
            text, normalised
        )
    return IntakeGuess(found_category, found_urgent)


_Waiting = tuple[_Loaded, str, bool, bool, "asyncio.Future[IntakeGuess]"]
# Per event loop: the reports that asked since the loop last ran `_answer_waiting`.
_waiting: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, list[_Waiting]] = (
    weakref.WeakKeyDictionary()
)


async def guess_together(
    database: str, text: str, *, category: bool, urgent: bool
) -> IntakeGuess | None:
    """`guess` with the model kept for this database (None when none is kept: then use
    `guess_for` with a session), computed with the other reports that ask in the same turn
    of the event loop, one after another.

    Under load many intakes reach triage in one turn of the loop. Classified one by one,
    each between the rest of its request's work, every text finds the model's tables and
    the rule lexicon cold in the CPU's caches and costs two to three times what it does in
    a loop; classified together they stay warm. One turn of the loop later, same result."""
    kept = _kept(database)
    if kept is None:
        return None
    loop = asyncio.get_running_loop()
    future: asyncio.Future[IntakeGuess] = loop.create_future()
    waiting = _waiting.setdefault(loop, [])
    if not waiting:
        loop.call_soon(_answer_waiting, waiting)
    waiting.append((kept, text, category, urgent, future))
    return await future


def _answer_waiting(waiting: list[_Waiting]) -> None:
    batch = waiting[:]
    waiting.clear()
    for kept, text, category, urgent, future in batch:
        if future.done():
            continue
        try:
            found = guess(kept.model, kept.categories, text, category=category, urgent=urgent)
        except Exception as exc:  # the request that asked gets it
            future.set_exception(exc)
        else:
            future.set_result(found)


async def guess_for(
    session: AsyncSession, text: str, *, category: bool, urgent: bool
) -> IntakeGuess:
    """`guess` with the active model among the site's active categories (kept for a while
    for `guess_together`). Writes nothing."""
    kept = await _keep(session)
    return guess(kept.model, kept.categories, text, category=category, urgent=urgent)


async def load(session: AsyncSession) -> None:
    """Load the active model and the categories now (a web process's start-up), so that the
    first reports of a surge do not wait for them: on a site without a stored model, the
    model of the shipped corpus is trained first, which takes seconds."""
    await _keep(session)


async def _keep(session: AsyncSession) -> _Loaded:
    database = str(session.get_bind().engine.url)
    kept = _kept(database)
    if kept is None:
        seen = activations()
        _, model = await active_model(session)
        names = frozenset(c.code for c in await list_categories(session))
        kept = _Loaded(time.monotonic() + KEEP_SECONDS, seen, model, names)
        _loaded[database] = kept
    return kept
