"""`POST /api/v1/suggestions`: category and urgency, likely duplicates and knowledge-base
answers for a text being typed or just received, in one round trip (assist/service.py).
Nothing is written: the operator always decides.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from hotline.assist.schemas import DraftIn, SuggestionsOut
from hotline.assist.service import suggest_for_draft
from hotline.auth.service import Actor
from hotline.duplicates.schemas import SuggestionOut as DuplicateOut
from hotline.knowledge.schemas import SuggestionOut as ArticleOut
from hotline.triage.schemas import TriageOut
from hotline.web.deps import current_actor, get_state
from hotline.web.errors import gettext_of
from hotline.web.i18n import language_of
from hotline.web.state import AppState

router = APIRouter(prefix="/api/v1", tags=["suggestions"])


@router.post("/suggestions", response_model=SuggestionsOut)
async def suggestions(
    request: Request,
    body: DraftIn,
    actor: Annotated[Actor, Depends(current_actor)],
    state: Annotated[AppState, Depends(get_state)],
) -> SuggestionsOut:
    """Suggestions for a draft request (new-case form, incoming message); writes nothing.
    The category's name and the reasons' labels follow the `lang` cookie, as problem
    details do (Vietnamese without it)."""
    async with state.unit_of_work() as session:
        found = await suggest_for_draft(
            session,
            actor=actor,
            text=body.text,
            category=body.category,
            limit=body.limit,
            ward_code=body.ward_code,
            address=body.address,
            lat=body.lat,
            long=body.long,
            language=language_of(request),
        )
        return SuggestionsOut(
            triage=TriageOut.of(found.triage, gettext_of(request)),
            duplicates=[DuplicateOut.model_validate(d) for d in found.duplicates],
            articles=[ArticleOut.of(a) for a in found.articles],
        )
