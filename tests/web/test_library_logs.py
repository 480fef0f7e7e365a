"""Library loggers that would write secrets: a provider's send URL can carry its token
(Facebook's Graph API takes `access_token` in the query), and httpx logs every request's
URL at INFO."""

from __future__ import annotations

import logging

import httpx

from hotline.logs import configure_logging


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_a_request_url_with_a_token_is_not_logged() -> None:
    configure_logging(environment="production")
    collect = _Collect()
    root = logging.getLogger()
    root.addHandler(collect)
    try:
        transport = httpx.MockTransport(lambda request: httpx.Response(200, json={}))
        with httpx.Client(transport=transport) as client:
            client.post("https://graph.example/v25.0/1/messages?access_token=PAGE-SECRET-1")
    finally:
        root.removeHandler(collect)
    assert not [line for line in collect.lines if "PAGE-SECRET-1" in line]
