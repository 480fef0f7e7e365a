"""create_app(settings) -> the ASGI app, with every domain's routes mounted."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware

from hotline.auth.service import TokenCache
from hotline.db import create_engine, make_sessionmaker
from hotline.events import EventBus, RedisEventBus
from hotline.settings import Settings, load_settings
from hotline.site import Site
from hotline.web import errors
from hotline.web.state import AppState


def create_app(settings: Settings) -> FastAPI:
    settings.check_production_safety()
    site = Site.from_settings(settings)
    engine = create_engine(
        settings.effective_database_url, pool_size=settings.db_pool_size, echo=settings.log_sql
    )
    state = AppState(
        settings=settings,
        site=site,
        engine=engine,
        sessionmaker=make_sessionmaker(engine, site),
        bus=RedisEventBus(settings.redis_url) if settings.redis_url else EventBus(),
        tokens=TokenCache(),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if isinstance(state.bus, RedisEventBus):
            await state.bus.start()
        yield
        if isinstance(state.bus, RedisEventBus):
            await state.bus.stop()
        await engine.dispose()

    app = FastAPI(
        title="Hotline 1022 API",
        version="0.1.0",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.hotline = state
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="hotline_session",
        same_site="lax",
        https_only=settings.environment == "production",
    )
    errors.install(app)

    from hotline.agents.api import router as agents_router
    from hotline.auth.api import router as auth_router
    from hotline.calls.api import callbacks_router
    from hotline.calls.api import router as calls_router
    from hotline.cases.api import router as cases_router
    from hotline.contacts.api import router as contacts_router
    from hotline.directory.api import router as directory_router
    from hotline.phoneconfig.api import router as phone_router
    from hotline.recordings.api import router as recordings_router
    from hotline.reports.api import router as reports_router
    from hotline.triage.api import router as triage_router
    from hotline.web.pages import router as pages_router
    from hotline.web.sse import router as sse_router

    for router in (
        auth_router,
        agents_router,
        cases_router,
        contacts_router,
        directory_router,
        calls_router,
        callbacks_router,
        phone_router,
        recordings_router,
        reports_router,
        triage_router,
        sse_router,
        pages_router,
    ):
        app.include_router(router)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def app_from_env() -> FastAPI:
    """For `uvicorn --factory hotline.app:app_from_env` (settings from HOTLINE_* variables)."""
    return create_app(load_settings())
