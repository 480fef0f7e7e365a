"""SQL logging (`HOTLINE_LOG_SQL`) and database errors never carry statement parameters:
they hold channel secrets, access tokens and citizens' personal data."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from hotline.db import create_engine

pytestmark = pytest.mark.anyio

SECRET = "oa-secret-never-logged-9f3e"


async def test_echoed_statements_and_errors_hide_their_parameters(database_url, caplog):
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    engine = create_engine(database_url, echo=True)
    try:
        async with engine.connect() as conn:
            value = await conn.scalar(text("SELECT :secret"), {"secret": SECRET})
            assert value == SECRET
            with pytest.raises(DBAPIError) as failed:
                await conn.execute(
                    text("SELECT :secret FROM no_such_table"),
                    {"secret": SECRET},
                )
    finally:
        await engine.dispose()
    assert "SELECT" in caplog.text  # the statements themselves are logged
    assert SECRET not in caplog.text
    assert SECRET not in str(failed.value)
