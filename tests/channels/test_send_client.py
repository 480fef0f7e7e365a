"""The worker's sends share a few HTTP clients: replies to one provider sent one after another
reuse one kept connection instead of opening one each."""

from __future__ import annotations

import pytest

from tests.channels.helpers import FakeProvider
from tests.channels.test_sms_segments import sms_conversation
from tests.channels.zalo_helpers import run_jobs

pytestmark = pytest.mark.anyio


async def test_replies_to_a_provider_go_over_one_kept_connection(app, client, world):
    fake = FakeProvider({"id": "gw-out"}, keep_alive=True).start()
    try:
        conversation = await sms_conversation(client, world, fake)
        for n in range(3):
            r = await client.post(
                f"/api/v1/conversations/{conversation}/messages",
                json={"text": f"Tổng đài 1022 trả lời lần {n + 1}"},
                headers=world.auth("operator"),
            )
            assert r.status_code == 202, r.text
            await run_jobs(app)
        assert len(fake.requests) == 3
        assert len({r.peer for r in fake.requests}) == 1
    finally:
        fake.stop()
