"""Schemathesis over every operation of the OpenAPI schema: no input makes a server error.

A real server (uvicorn on loopback, in a thread) on each engine, called as an admin, with
what schemathesis' own run would send: its coverage phase (each parameter's and field's
boundary values and the values just past them) and Hypothesis examples drawn from the
schema, positive (fit it) and negative (break it). Both are deterministic (derandomized),
so a run is repeatable, and bounded per operation. The figures go to the terminal summary.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.drivers import CoverageGenerator
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.generation.overrides import Override

from hotline.app import create_app
from hotline.settings import Settings
from tests.conftest import PASSWORD, report

# Examples per operation and generation mode: every operation x 2 modes x this, per engine.
EXAMPLES = 8
STREAMING = {"/api/v1/events"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _create_admin(url: str) -> None:
    from hotline.auth.service import create_user
    from hotline.db import create_engine, make_sessionmaker
    from hotline.site import Site

    engine = create_engine(url)
    site = Site.from_settings(Settings(database_url=url))
    async with make_sessionmaker(engine, site)() as session, session.begin():
        await create_user(session, username="admin", password=PASSWORD, role="admin")
    await engine.dispose()


@pytest.fixture
def server(settings: Settings) -> Iterator[str]:
    asyncio.run(_create_admin(settings.effective_database_url))
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=30)


def test_no_operation_answers_a_server_error(
    server: str, database_url: str, request: pytest.FixtureRequest
) -> None:
    http = requests.Session()
    token = http.post(
        f"{server}/api/v1/auth/token", data={"username": "admin", "password": PASSWORD}
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_url(f"{server}/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    sent = 0
    failures: list[str] = []
    no_negative: list[str] = []
    reached: set[str] = set()

    def send(case: Any, timeout: float) -> None:
        nonlocal sent
        response = case.call(base_url=server, session=http, headers=auth, timeout=timeout)
        sent += 1
        reached.add(case.operation.label)
        try:
            case.validate_response(response, checks=[not_a_server_error], headers=auth)
        except FailureGroup as exc:
            first = str(exc).strip().splitlines()[0]
            failures.append(f"{case.operation.label}: {first}\n  {case.as_curl_command()}")
            return
        # The database's refusal is answered as a 422 too, as a last resort: in the suite,
        # a value that got that far is a missing check (and may differ between engines).
        if response.status_code == 422 and b"DatabaseRefusedValue" in response.content:
            failures.append(
                f"{case.operation.label}: reached the database unchecked: {response.text}"
                f"\n  {case.as_curl_command()}"
            )

    def cover(operation: Any) -> None:
        """Schemathesis' coverage phase: boundary and just-out-of-bounds values of every
        parameter and field (the largest integers, empty and odd strings, wrong types)."""
        timeout = 0.3 if operation.path in STREAMING else 30
        generator = CoverageGenerator(
            operation=operation,
            generation_modes=list(schemathesis.GenerationMode),
            generation_config=schema.config.generation_for(operation=operation, phase="coverage"),
            auth_storage=None,
            override=Override(),
            feedback=FeedbackSources(),
        )
        for case in generator:
            send(case, timeout)

    def exercise(operation: Any, mode: schemathesis.GenerationMode) -> None:
        streaming = operation.path in STREAMING
        # An event stream never ends: schemathesis reads it until the timeout.
        timeout = 0.3 if streaming else 30

        @given(case=operation.as_strategy(generation_mode=mode))
        @hsettings(
            max_examples=2 if streaming else EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def call(case: Any) -> None:
            send(case, timeout)

        try:
            call()
        except Unsatisfiable:
            # Nothing to break (no parameters, no body): the operation has no negative
            # examples. Counted and shown; never so for positive ones.
            assert mode is schemathesis.GenerationMode.NEGATIVE, operation.label
            no_negative.append(operation.label)

    for operation in operations:
        cover(operation)
        exercise(operation, schemathesis.GenerationMode.POSITIVE)
        exercise(operation, schemathesis.GenerationMode.NEGATIVE)

    engine = database_url.split(":", 1)[0].split("+", 1)[0]
    report(
        request.config,
        f"schemathesis ({engine}): {len(operations)} operations tested, "
        f"{sent} examples sent, {len(failures)} server errors or unchecked values "
        f"({len(no_negative)} operations without negative examples: nothing to break)",
    )
    assert operations and reached == {operation.label for operation in operations}
    failing = sorted({line.split(":", 1)[0] for line in failures})
    assert not failures, "\n".join(["server errors on:", *failing, "first ones:", *failures[:10]])
