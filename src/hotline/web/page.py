"""What every HTML page needs: templates over the base layout, the form's CSRF token, and the
signed-in user of a page request."""

from __future__ import annotations

import secrets
from functools import partial
from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth import service as auth
from hotline.auth.permissions import Permission, allows
from hotline.auth.service import Actor
from hotline.errors import Unauthenticated
from hotline.web.deps import page_session_id
from hotline.web.i18n import category_name, finalize, number, template_context
from hotline.web.state import AppState

BASE_TEMPLATES = Path(__file__).parent / "templates"


def templates_for(pages_module: str, *also: str) -> Jinja2Templates:
    """Templates for a domain's `pages.py` (or a module of its `pages/` package): the
    domain's own `templates/` folder (pages name them `<domain>/<page>.html`), then those of
    the domains in `also` whose parts its pages include, then the shared ones (`base.html`,
    `workspace/...`). Every template gets `_` and the page's language (web/i18n.py)."""
    folder = Path(pages_module).parent
    own = (folder.parent if folder.name == "pages" else folder) / "templates"
    others = [str(BASE_TEMPLATES.parents[1] / domain / "templates") for domain in also]
    templates = Jinja2Templates(
        directory=[str(own), *others, str(BASE_TEMPLATES)],
        context_processors=[partial(template_context, domain=own.parent.name)],
    )
    templates.env.finalize = finalize
    templates.env.filters["number"] = number
    templates.env.filters["category_name"] = category_name
    return templates


def csrf_token(request: Request) -> str:
    """The session's form token, made on first use."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return str(token)


def csrf_matches(request: Request, sent: str) -> bool:
    """The form's token is the session's. A session without one matches nothing: an empty
    form field against an empty session is how a cross-site form would get through."""
    expected = str(request.session.get("csrf") or "")
    return bool(expected) and secrets.compare_digest(sent.encode(), expected.encode())


async def page_actor(request: Request, state: AppState, session: AsyncSession) -> Actor | None:
    """The signed-in user of a page request (same rule as current_actor), or None after
    clearing a cookie whose session has ended."""
    session_id = page_session_id(request)
    if session_id is None:
        return None
    try:
        return await auth.actor_for_page_session(
            session, session_id=session_id, ttl_hours=state.settings.session_ttl_hours
        )
    except Unauthenticated:
        request.session.clear()
        return None


def nav_for(actor: Actor | None) -> dict[str, bool]:
    """Which of the workspace's pages the header links to for this user (each page still
    checks in its service: a link is not a permission)."""
    if actor is None:
        return {}
    return {
        "console": allows(actor, Permission.HANDLE_CASES),
        "inbox": actor.unit_scoped,
        # Home care: a doctor's worklist; care coordinators (supervisors) start from the
        # alerts instead (`/care` sends them there), then every followed patient.
        "care": allows(actor, Permission.FOLLOW_PATIENTS)
        and not allows(actor, Permission.SEE_ALL_PATIENTS),
        "patients": allows(actor, Permission.FOLLOW_PATIENTS),
        # The care coordinator's live alerts (a doctor's own are on their worklist).
        "care_alerts": allows(actor, Permission.SEE_ALL_PATIENTS),
        "dashboard": allows(actor, Permission.SUPERVISE_AGENTS),
        # Shift leads' staffing board; a call taker's own shifts and clock.
        "staffing": allows(actor, Permission.SEE_ROSTER),
        "reports": allows(actor, Permission.READ_REPORTS),
        "admin": allows(actor, Permission.VIEW_USERS) or allows(actor, Permission.EDIT_KNOWLEDGE),
    }
