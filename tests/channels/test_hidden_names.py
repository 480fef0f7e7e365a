"""A citizen's name as a provider sends it is never a reason to lose their message: control
and format characters (zero-width spaces, bidi overrides) are taken out of it, the message
is stored, and the contact and identity carry the visible name."""

from __future__ import annotations

import json

import pytest

from tests.channels.helpers import VIBER, signature_headers
from tests.channels.test_provider_hooks import make_channel

pytestmark = pytest.mark.anyio

DOCUMENTED = "tests/channels/payloads/viber/documented/message.json"


async def test_a_providers_name_with_hidden_characters_is_stripped_not_refused(
    app, client, world, provider
) -> None:
    channel = await make_channel(app, client, world, "viber", provider)
    with open(DOCUMENTED, "rb") as f:
        document = json.loads(f.read())
    document["sender"]["name"] = "\u202eJohn\u200b McClane\ufeff"
    body = json.dumps(document).encode()
    r = await client.post(
        f"/hooks/{channel}", content=body, headers=signature_headers("viber", VIBER, body)
    )
    assert r.status_code == 200, r.text
    r = await client.get(
        "/api/v1/conversations", params={"channel": channel}, headers=world.auth("operator")
    )
    [conversation] = r.json()["items"]
    r = await client.get(
        f"/api/v1/conversations/{conversation['id']}", headers=world.auth("operator")
    )
    [message] = r.json()["messages"]
    assert message["text"] == "a message to the service"
    card = await client.get(
        f"/api/v1/contacts/{conversation['contact_id']}", headers=world.auth("operator")
    )
    assert card.json()["name"] == "John McClane"
    [identity] = card.json()["identities"]
    assert identity["display_name"] == "John McClane"
