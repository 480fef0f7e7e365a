"""create_app(settings) -> the ASGI app, with every domain's routes mounted."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from starlette.middleware.sessions import SessionMiddleware
from starlette.staticfiles import StaticFiles

from hotline.auth.service import TokenCache
from hotline.db import create_engine, make_sessionmaker
from hotline.eventfeed import EventFeed, Waker
from hotline.events import EventBus
from hotline.logs import configure_logging
from hotline.secret_key import session_secret
from hotline.settings import Settings, load_settings
from hotline.site import Site
from hotline.web import errors
from hotline.web.guard import RequestGuard
from hotline.web.inputs import refuse_unstorable_input
from hotline.web.observe import RequestObserver
from hotline.web.openapi import add_schemas
from hotline.web.ratelimit import (
    FailureLimiter,
    RequestLimiter,
    WebchatLimiter,
    make_storage,
)
from hotline.web.sessions import SkipSession
from hotline.web.state import AppState


def create_app(settings: Settings) -> FastAPI:
    configure_logging(environment=settings.environment, level=settings.log_level)
    secret = session_secret(settings)
    site = Site.from_settings(settings)
    engine = create_engine(
        settings.effective_database_url, pool_size=settings.db_pool_size, echo=settings.log_sql
    )
    limits = make_storage(settings.redis_url, prefix=settings.ratelimit_prefix)
    bus = EventBus()
    feed = EventFeed(settings, engine, bus)
    state = AppState(
        settings=settings,
        site=site,
        engine=engine,
        sessionmaker=make_sessionmaker(engine, site),
        bus=bus,
        feed=feed,
        waker=Waker(settings, engine, feed),
        tokens=TokenCache(),
        logins=FailureLimiter(
            limits,
            per_address=settings.login_failures_per_address,
            per_username=settings.login_failures_per_username,
            window_seconds=settings.login_failure_window_seconds,
        ),
        public=RequestLimiter(limits, settings.public_requests_per_minute),
        tracking=FailureLimiter(
            limits, per_address=30, per_username=10, window_seconds=900, name="tracking"
        ),
        webchat=WebchatLimiter(
            limits,
            sessions_per_minute=settings.webchat_sessions_per_minute,
            messages_per_minute=settings.webchat_messages_per_minute,
        ),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await state.start_events()
        await state.warm_up()
        # Everything built so far (routes, models, SQLAlchemy metadata, settings) lives as
        # long as the process: moved out of the collector's view, full collections stop
        # rescanning it, which otherwise shows up as pauses in request latency under load.
        gc.collect()
        gc.freeze()
        yield
        await state.close()

    app = FastAPI(
        title="Hotline 1022 API",
        version="0.1.0",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # web/docs.py serves it from the package's copy of Swagger UI
        redoc_url=None,
        lifespan=lifespan,
        dependencies=[Depends(refuse_unstorable_input)],
        # Metrics are Prometheus's (metrics.py) and logs structlog's; FastAPI's own
        # OpenTelemetry hooks, unconfigured, still asked three providers on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.hotline = state
    # Inside the session middleware (it reads the page session), before any body is read.
    app.add_middleware(RequestGuard)
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie="hotline_session",
        max_age=settings.session_ttl_hours * 3600,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.add_middleware(SkipSession)  # outside the session middleware
    # Outermost: the request id and the security headers are on every response and the id
    # on every log line, refusals included.
    app.add_middleware(
        RequestObserver,
        access_log=settings.access_log,
        production=settings.environment == "production",
    )
    app.mount("/static", StaticFiles(packages=[("hotline.web", "static")]), name="static")
    errors.install(app)

    from hotline.admin.api import router as admin_router
    from hotline.admin.pages import router as admin_pages_router
    from hotline.agents.api import router as agents_router
    from hotline.agents.pages import router as agent_pages_router
    from hotline.assist.api import router as assist_router
    from hotline.auth.api import router as auth_router
    from hotline.auth.pages import router as auth_pages_router
    from hotline.calls.api import callbacks_router
    from hotline.calls.api import router as calls_router
    from hotline.care.api import router as care_router
    from hotline.care.api.followup import router as care_followup_router
    from hotline.care.pages import router as care_pages_router
    from hotline.cases.api import router as cases_router
    from hotline.cases.api.actions import router as case_actions_router
    from hotline.cases.pages import router as case_pages_router
    from hotline.cases.pages.edits import router as case_edit_pages_router
    from hotline.channels.api import hooks_router
    from hotline.channels.api import router as channels_router
    from hotline.channels.api import saved_router as saved_replies_router
    from hotline.channels.pages import router as channel_pages_router
    from hotline.console.pages import router as console_router
    from hotline.contacts.api import router as contacts_router
    from hotline.dashboard.pages import router as dashboard_router
    from hotline.directory.api import router as directory_router
    from hotline.duplicates.api import router as duplicates_router
    from hotline.knowledge.api import case_router as knowledge_case_router
    from hotline.knowledge.api import public_router as knowledge_public_router
    from hotline.knowledge.api import router as knowledge_router
    from hotline.knowledge.pages import router as knowledge_pages_router
    from hotline.phoneconfig.api import router as phone_router
    from hotline.phoneconfig.pages import router as phone_pages_router
    from hotline.portal.pages import router as portal_router
    from hotline.recordings.api import router as recordings_router
    from hotline.reports.api import router as reports_router
    from hotline.reports.pages import router as report_pages_router
    from hotline.staffing.api import router as staffing_router
    from hotline.staffing.pages import router as staffing_pages_router
    from hotline.triage.api import router as triage_router
    from hotline.web.docs import router as docs_router
    from hotline.web.health import router as health_router
    from hotline.web.sse import router as sse_router
    from hotline.web.webchat import router as webchat_router

    # Case intake first: routes are tried in order, and intake is the path under a surge
    # (no route of the routers after it takes the same method and path); then the providers'
    # webhooks (their own prefix), the other path a surge takes.
    for router in (
        cases_router,
        hooks_router,
        case_actions_router,
        auth_router,
        duplicates_router,
        agents_router,
        contacts_router,
        directory_router,
        calls_router,
        callbacks_router,
        phone_router,
        recordings_router,
        reports_router,
        staffing_router,
        triage_router,
        admin_router,
        assist_router,
        channels_router,
        saved_replies_router,
        knowledge_router,
        knowledge_case_router,
        knowledge_public_router,
        care_router,
        care_followup_router,
        sse_router,
        webchat_router,
        docs_router,
        auth_pages_router,
        console_router,
        case_pages_router,
        case_edit_pages_router,
        channel_pages_router,
        agent_pages_router,
        knowledge_pages_router,
        dashboard_router,
        admin_pages_router,
        phone_pages_router,
        report_pages_router,
        portal_router,
        care_pages_router,
        staffing_pages_router,
        health_router,
    ):
        app.include_router(router)

    from hotline.cases.schemas import CaseIn
    from hotline.web.routes import serve_before_routing

    # Case intake and the providers' webhooks.
    serve_before_routing(app, [*cases_router.routes, *hooks_router.routes])
    add_schemas(app, CaseIn)  # the intake route validates its body itself (cases/api/__init__.py)

    return app


def app_from_env() -> FastAPI:
    """For `uvicorn --factory hotline.app:app_from_env` (settings from HOTLINE_* variables)."""
    return create_app(load_settings())
