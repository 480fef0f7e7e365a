"""The adapters by channel kind, and what each kind is called on a case and an identity.

A new provider is one line in `_ADAPTERS` (its module imported lazily, so nothing is built at
import time and one adapter's dependencies never load another's).
"""

from __future__ import annotations

import importlib
from functools import cache

from hotline.channels.adapter import Adapter
from hotline.contacts.models import Channel as ContactChannel
from hotline.errors import InvalidInput
from hotline.messages import msg

KINDS = ("zalo", "messenger", "viber", "email", "sms", "webchat", "portal")

# kind -> "module:attribute" of its adapter instance.
_ADAPTERS: dict[str, str] = {
    "zalo": "hotline.channels.zalo:ADAPTER",
    "webchat": "hotline.channels.webchat:ADAPTER",
    "messenger": "hotline.channels.messenger:ADAPTER",
    "viber": "hotline.channels.viber:ADAPTER",
    "sms": "hotline.channels.sms:ADAPTER",
    "email": "hotline.channels.email:ADAPTER",
    "portal": "hotline.channels.portal:ADAPTER",
}

# A channel kind as a case's and a contact identity's channel (contacts.models.Channel).
CASE_CHANNEL: dict[str, ContactChannel] = {
    "zalo": ContactChannel.ZALO,
    "messenger": ContactChannel.FACEBOOK,
    "viber": ContactChannel.VIBER,
    "email": ContactChannel.EMAIL,
    "sms": ContactChannel.SMS,
    "webchat": ContactChannel.WEB,
    "portal": ContactChannel.WEB,
}


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise InvalidInput(msg("Loại kênh không hợp lệ: {kind}", kind=kind), field="kind")
    if kind not in _ADAPTERS:
        raise InvalidInput(msg("Chưa hỗ trợ kênh {kind}", kind=kind), field="kind")


@cache
def adapter_for(kind: str) -> Adapter:
    """The adapter of a kind (InvalidInput for a kind with none)."""
    check_kind(kind)
    module, _, name = _ADAPTERS[kind].partition(":")
    adapter: Adapter = getattr(importlib.import_module(module), name)
    return adapter
