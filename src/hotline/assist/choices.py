"""Acting on the suggestions while a case is recorded: the operator took a likely duplicate
or a knowledge-base answer from the new-case form, and the case is saved with that choice in
the same transaction. Each choice is one of the workflow's own verbs, so its rules (who
may, from which status, what the timeline and the reporters get) stay in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Actor
from hotline.cases import workflow
from hotline.cases.models import Case
from hotline.errors import DomainError, InvalidInput
from hotline.knowledge.access import get_article_for
from hotline.knowledge.suggest import record_article_used


@dataclass(frozen=True)
class IntakeChoice:
    # The code of the case this one repeats (a suggested duplicate, or any case).
    duplicate_of: str | None = None
    # The answer given to the caller at once; the article it was taken from, if one was.
    answer: str | None = None
    article_id: int | None = None

    @property
    def given(self) -> bool:
        return bool(self.duplicate_of or (self.answer or "").strip() or self.article_id)


def check_choice(choice: IntakeChoice) -> None:
    """The combinations refused before anything is written."""
    answer = (choice.answer or "").strip()
    if choice.duplicate_of and answer:
        raise InvalidInput(
            "Yêu cầu trùng nhận câu trả lời của yêu cầu gốc: bỏ câu trả lời hoặc bỏ chọn trùng",
            field="answer",
        )
    if choice.article_id is not None and not answer:
        raise InvalidInput("Bài hỏi đáp chỉ đi kèm một câu trả lời", field="article_id")


async def apply_choice(
    session: AsyncSession, *, actor: Actor, case: Case, choice: IntakeChoice
) -> Case:
    """A new case marked as a duplicate of the chosen one (workflow.mark_duplicate: it ends
    linked to it and gets its answer if there is one), or answered at once by the hotline
    (workflow.resolve_case), the knowledge-base article it came from counted as used."""
    check_choice(choice)
    if choice.duplicate_of:
        try:
            await workflow.mark_duplicate(
                session, actor=actor, case=case, original_code=choice.duplicate_of.strip()
            )
        except DomainError as exc:
            if exc.field == "original_code":  # the form's and the API's name for it
                exc.field = "duplicate_of"
            raise
    elif (choice.answer or "").strip():
        await workflow.resolve_case(session, actor=actor, case=case, answer=choice.answer)
        if choice.article_id is not None:
            try:
                article = await get_article_for(session, actor, choice.article_id)
            except DomainError as exc:
                exc.field = "article_id"
                raise
            await record_article_used(session, actor=actor, case=case, article=article)
    return case
