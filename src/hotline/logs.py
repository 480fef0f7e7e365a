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

import json
import logging
import math
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import structlog

_configured: tuple[bool, str, bool] | None = None
# Set in production when INFO lines are written: see `info_line_writer`.
_info_writer: Callable[..., None] | None = None


def configure_logging(*, environment: str, level: str = "INFO") -> None:
    """Set up structlog and the root logger; calling it again with the same arguments does
    nothing (every app built in one process shares one configuration)."""
    global _configured, _info_writer
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
    info = logging.getLevelName(level.upper()) <= logging.INFO
    _info_writer = _json_line_writer(sys.stderr) if cached and as_json and info else None


def info_line_writer() -> Callable[..., None] | None:
    """A writer of INFO lines that renders them as the JSON renderer would, without
    structlog's processor chain, or None where the lines must go through structlog (not in
    production, where tests capture the lines, or INFO filtered out).

    For the access line: one per request, intake's included, where structlog's chain (its
    context merge, level, time stamp and `json.dumps`) cost about a twentieth of a report's
    CPU. The line has the same keys in the same order, the bound context (request id) too.
    """
    return _info_writer


# json's own C string encoder (what json.dumps uses with ensure_ascii, the renderer's default)
_quote: Callable[[str], str] = json.encoder.encode_basestring_ascii


_fallback: Callable[[Any], Any] = getattr(structlog.processors, "_json_fallback_handler", repr)


def _json_value(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return _quote(value)
    if kind is int:
        return int.__repr__(value)
    if kind is float and math.isfinite(value):
        return float.__repr__(value)  # what json.dumps writes for a finite float
    if value is None:
        return "null"
    # bool, NaN, containers, str and int subclasses, other objects: as the renderer does
    return json.dumps(value, default=_fallback)


def _json_line_writer(stream: Any) -> Callable[..., None]:
    get_context = structlog.contextvars.get_contextvars
    # structlog's own writer: the same per-file lock, so lines of other threads never mix.
    emit = structlog.WriteLogger(stream).msg

    def write_info(event: str, **fields: Any) -> None:
        # structlog's order: the call's fields, "event", the bound context (only keys the
        # call did not give), the level, the time stamp (TimeStamper(fmt="iso", utc=True)).
        fields["event"] = event
        for key, value in get_context().items():
            fields.setdefault(key, value)
        fields.pop("level", None)
        fields.pop("timestamp", None)
        stamp = datetime.now(tz=UTC).isoformat().replace("+00:00", "Z")
        body = ", ".join(f"{_quote(k)}: {_json_value(v)}" for k, v in fields.items())
        emit(f'{{{body}, "level": "info", "timestamp": "{stamp}"}}')

    return write_info
