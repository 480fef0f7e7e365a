"""Logging, configured once per process: readable lines in development, one JSON object per
line everywhere else, on stderr.

The application's own lines (structlog) are rendered and written directly: the access line
is written for every request, and the standard library's logging machinery would more than
double its cost. Lines from libraries that use the standard library (uvicorn, SQLAlchemy,
alembic) go through the same renderer via a root handler. Context bound with
structlog.contextvars (the request id) is added to every structlog line logged while it is
bound.
"""

from __future__ import annotations

import logging
import sys

import structlog

_configured: tuple[bool, str, bool] | None = None


def configure_logging(*, environment: str, level: str = "INFO") -> None:
    """Set up structlog and the root logger; calling it again with the same arguments does
    nothing (every app built in one process shares one configuration)."""
    global _configured
    as_json = environment != "development"
    cached = environment == "production"
    if _configured == (as_json, level, cached):
        return
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if as_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    exceptions: list[structlog.typing.Processor] = (
        [structlog.processors.format_exc_info] if as_json else []
    )
    structlog.configure(
        processors=[*shared, *exceptions, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.WriteLoggerFactory(sys.stderr),
        # Cached in production (a logger is otherwise rebuilt for every line, the access
        # line of every request included); elsewhere not, so that
        # structlog.testing.capture_logs (the tests) can swap the processors of loggers
        # already used.
        cache_logger_on_first_use=cached,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *exceptions,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_hotline", False)]:
        root.removeHandler(old)
    handler._hotline = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    # uvicorn's own handlers would print its lines a second time, unformatted; its access
    # lines are replaced by web/observe.py's, which carry the request id.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = name != "uvicorn.access"
    # httpx and httpcore log every request's full URL at INFO, and a messaging provider's
    # send URL may carry its access token (Facebook's Graph API): their warnings only.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level.upper())))
    _configured = (as_json, level, cached)
