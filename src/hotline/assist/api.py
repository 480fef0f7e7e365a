"""`POST /api/v1/suggestions`: category and urgency, likely duplicates and knowledge-base
answers for a text being typed or just received, in one round trip.

The three suggestions come from their own domains' services (triage, duplicates,
knowledge); the only rule here is which category steers the other two: the one the operator
chose, else the one triage suggests. Nothing is written: the operator always decides.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from hotline.assist.schemas import DraftIn, SuggestionsOut
from hotline.auth.service import Actor
from hotline.duplicates.schemas import SuggestionOut as DuplicateOut
from hotline.duplicates.service import suggest_duplicates
from hotline.errors import NotAllowed
from hotline.knowledge.schemas import SuggestionOut as ArticleOut
from hotline.knowledge.suggest import MAX_TEXT as ARTICLE_TEXT
from hotline.knowledge.suggest import suggest_articles
from hotline.triage.schemas import TriageOut
from hotline.triage.service import MAX_TEXT as TRIAGE_TEXT
from hotline.triage.service import classify
from hotline.web.deps import current_actor, get_state
from hotline.web.state import AppState

router = APIRouter(prefix="/api/v1", tags=["suggestions"])


@router.post("/suggestions", response_model=SuggestionsOut)
async def suggestions(
    body: DraftIn,
    actor: Annotated[Actor, Depends(current_actor)],
    state: Annotated[AppState, Depends(get_state)],
) -> SuggestionsOut:
    """Suggestions for a draft request (new-case form, incoming message); writes nothing."""
    if not actor.is_hotline_staff:
        raise NotAllowed("Chỉ nhân viên tổng đài dùng được gợi ý")
    # An incoming e-mail may run past what triage and article matching read; its start says
    # what it is about (a quoted thread follows), so the rest is left out, not refused.
    head = body.text[: min(TRIAGE_TEXT, ARTICLE_TEXT)]
    async with state.unit_of_work() as session:
        triage = await classify(session, text=head)
        category = body.category or triage.category
        duplicates = await suggest_duplicates(
            session,
            text=body.text,
            ward_code=body.ward_code,
            category_code=category,
            address=body.address,
            lat=body.lat,
            long=body.long,
            limit=body.limit,
            actor=actor,
        )
        articles = await suggest_articles(
            session, text=head, category_code=category, limit=body.limit
        )
        return SuggestionsOut(
            triage=TriageOut.of(triage),
            duplicates=[DuplicateOut.model_validate(d) for d in duplicates],
            articles=[ArticleOut.of(a) for a in articles],
        )
