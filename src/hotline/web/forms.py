"""The shape every page of the administration workspace (`/admin/...`) shares, whichever
domain keeps the page: the signed-in user (else the sign-in page), the context the workspace
layout needs, a service's refusal of a read shown as a page with its status, and the one
shape of a form post.

A form post checks the CSRF token, runs the change in one transaction through the service
(which checks the permission), and either redirects (303) or shows the page again with the
service's message next to the field it names and what the user typed kept (never a
password). Form fields arrive as text, empty when left out, so that a wrong value is the
service's message on the page rather than FastAPI's 422 body; the page converts them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, ClassVar

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth import audit
from hotline.auth import service as auth
from hotline.auth.models import AdminChange, Role
from hotline.auth.service import Actor
from hotline.errors import DomainError, NotFound
from hotline.web.page import csrf_matches, csrf_token, nav_for, page_actor, templates_for
from hotline.web.state import AppState

EXPIRED = "Phiên làm việc đã hết hạn, vui lòng thử lại."
# A service account is made with `hotline service-account create`, not this form.
ROLES = [r.value for r in Role if r is not Role.SERVICE]

Errors = dict[str, str]
# Reads for a page: (session, actor) -> what its template gets besides the common context.
Load = Callable[[AsyncSession, Actor], Awaitable[dict[str, Any]]]
# A change: (session, actor) -> where to go once it is committed.
Change = Callable[[AsyncSession, Actor], Awaitable[str]]
# The page again after a refusal: (errors by field, HTTP status) -> the response.
Again = Callable[[Errors, int], Awaitable[Response]]


class PageForm(BaseModel):
    """A posted form: its CSRF token and, in subclasses, its fields as text ("" if absent)."""

    model_config = ConfigDict(extra="ignore")
    # Fields never shown back to the user (passwords).
    SECRET: ClassVar[frozenset[str]] = frozenset()

    csrf: str = ""

    @classmethod
    def fields(cls) -> frozenset[str]:
        """The field names a refusal may be shown next to."""
        return frozenset(cls.model_fields) - {"csrf"}

    def typed(self) -> dict[str, Any]:
        """What the user typed, to fill the form again (secrets left out): text, or a list
        of texts for a field repeated on the form."""
        return self.model_dump(exclude={"csrf", *self.SECRET})


class SignedOut(Exception):
    """No signed-in user: the answer is the sign-in page."""

    def __init__(self) -> None:
        self.response = RedirectResponse("/login", status_code=303)


async def signed_in(request: Request, state: AppState, session: AsyncSession) -> Actor:
    actor = await page_actor(request, state, session)
    if actor is None or actor.user_id is None:
        raise SignedOut
    return actor


def field_errors(
    exc: DomainError,
    fields: frozenset[str],
    fallback: str,
    rename: Mapping[str, str] | None = None,
) -> Errors:
    """A service's refusal keyed by the form field it names (after `rename`, for a service
    whose field names differ from the form's), else by the form's own slot `fallback`."""
    field = (rename or {}).get(exc.field or "", exc.field)
    return {field if field in fields else fallback: exc.detail}


async def trail(session: AsyncSession, changes: Iterable[AdminChange]) -> list[dict[str, Any]]:
    """Audit entries as `workspace/changes.html` shows them: when, by whom (None: the
    command line), what, and each setting that changed."""
    rows = list(changes)
    names = await auth.display_names(session, {c.user_id for c in rows if c.user_id})
    return [
        {
            "at": c.at,
            "by": names.get(c.user_id) if c.user_id else None,
            "key": c.key,
            "action": c.action,
            "changes": audit.differences(c.before, c.after),
        }
        for c in rows
    ]


async def trails_by_key(
    session: AsyncSession, actor: Actor, kind: str, *, limit: int = audit.MAX_LIMIT
) -> dict[str, list[dict[str, Any]]]:
    """The latest changes of a kind, grouped by object (newest first in each): the history
    each row of a list opens to."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    changes = await audit.list_changes(session, actor=actor, kind=kind, limit=limit)
    for row in await trail(session, changes):
        grouped.setdefault(row["key"], []).append(row)
    return grouped


async def last_by_key(session: AsyncSession, actor: Actor, kind: str) -> dict[str, dict[str, Any]]:
    """The latest change of each object of a kind, by key: "last changed by X at T"."""
    latest = await audit.last_changes(session, actor=actor, kind=kind)
    return {row["key"]: row for row in await trail(session, latest.values())}


class Workspace:
    """The pages of one module of the workspace: its templates and the shapes above."""

    def __init__(self, pages_module: str) -> None:
        self.templates = templates_for(pages_module)

    async def context(
        self, request: Request, state: AppState, session: AsyncSession, actor: Actor
    ) -> dict[str, Any]:
        assert actor.user_id is not None
        return {
            "user": await auth.get_user(session, actor.user_id),
            "csrf": csrf_token(request),
            "nav": nav_for(actor),
            "tz": state.site.timezone,
            "roles": ROLES,
        }

    def refused(self, request: Request, context: dict[str, Any], exc: DomainError) -> Response:
        """A read the service refused (403) or found nothing for (404), with its reason."""
        return self.templates.TemplateResponse(
            request,
            "workspace/refused.html",
            {**context, "message": exc.detail, "status": exc.status},
            status_code=exc.status,
        )

    async def page(
        self,
        request: Request,
        state: AppState,
        template: str,
        load: Load,
        *,
        errors: Errors | None = None,
        typed: Mapping[str, Any] | None = None,
        status_code: int = 200,
    ) -> Response:
        """A page read in one read-only transaction: `load` asks the services (a refusal is
        the refusal page), the template gets the common context, `errors` and `typed` (a
        form shown again) and `done` (what the last change did, from the redirect)."""
        async with state.unit_of_work(read_only=True) as session:
            try:
                actor = await signed_in(request, state, session)
            except SignedOut as out:
                return out.response
            context = await self.context(request, state, session, actor)
            try:
                own = await load(session, actor)
            except DomainError as exc:
                return self.refused(request, context, exc)
        return self.templates.TemplateResponse(
            request,
            template,
            {
                **context,
                "errors": errors or {},
                "typed": dict(typed or {}),
                "done": request.query_params.get("done"),
                **own,
            },
            status_code=status_code,
        )

    @staticmethod
    async def submit(
        request: Request,
        state: AppState,
        form: PageForm,
        change: Change,
        *,
        again: Again,
        fallback: str = "form",
        fields: frozenset[str] | None = None,
        rename: Mapping[str, str] | None = None,
        missing: str | None = None,
        then: Callable[[], None] | None = None,
    ) -> Response:
        """Run one change in its own transaction and redirect to where it says, or show the
        page again (`again`) with the refusal next to its field (the form's fields, or
        `fields`; `fallback` when the service names none of them). A NotFound naming
        `missing` (the page's own object) is the 404 page. `then` runs after the commit."""
        if not csrf_matches(request, form.csrf):
            return await again({fallback: EXPIRED}, 400)
        try:
            async with state.unit_of_work() as session:
                actor = await signed_in(request, state, session)
                location = await change(session, actor)
        except SignedOut as out:
            return out.response
        except DomainError as exc:
            if missing is not None and isinstance(exc, NotFound) and exc.field == missing:
                raise
            known = form.fields() if fields is None else fields
            return await again(field_errors(exc, known, fallback, rename), exc.status)
        if then is not None:
            then()
        return RedirectResponse(location, status_code=303)
