"""The worker's HTTP client for sends: one per event loop, its connections kept between
replies, each send with its channel's timeout."""

from __future__ import annotations

import asyncio
import functools
import ssl
import weakref

import aiohttp
import certifi

from hotline.channels.adapter import HttpClient

DEFAULT_TIMEOUT = 10.0


def send_timeout(seconds: float) -> aiohttp.ClientTimeout:
    """A send's limits: at most 5 s to get a connection (from the pool, or a new one), then
    `seconds` without a byte of the answer."""
    return aiohttp.ClientTimeout(total=None, connect=min(seconds, 5.0), sock_read=seconds)


@functools.cache
def _tls() -> ssl.SSLContext:
    """The verifying TLS context of the send client (certifi's CA bundle, as before with
    httpx): building one costs tens of milliseconds of CPU, more than many sends."""
    return ssl.create_default_context(cafile=certifi.where())


# The worker's sends share one HTTP client per event loop (connections belong to the loop
# that opened them; tests run one each), so a provider's connections and their TLS sessions
# are kept open between replies instead of opened for each. Its pool holds PER_PROVIDER
# connections to each provider (host), enough for the CHANNEL_SENDS requests a worker has
# in flight to one channel (sender.py); a request beyond them waits for a free one within
# its connect timeout.
PER_PROVIDER = 32
KEEPALIVE = 30.0

_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.ClientSession] = (
    weakref.WeakKeyDictionary()
)


def send_client() -> HttpClient:
    """This process's send client (made on first use). Each send passes its channel's
    timeout with its request (`Outgoing.timeout`); the client's own default (10 s) serves
    token refreshes. Proxy variables in the environment are not read (`trust_env` off: it
    would read them and ~/.netrc on every request); a provider reached through a proxy
    has the proxy as its channel's `api_base`."""
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None or client.closed:
        client = _clients[loop] = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=0,
                limit_per_host=PER_PROVIDER,
                keepalive_timeout=KEEPALIVE,
                ssl=_tls(),
            ),
            timeout=send_timeout(DEFAULT_TIMEOUT),
            trust_env=False,
        )
    return client


async def close_send_client() -> None:
    """Close this event loop's send client and its connections (the worker's shutdown)."""
    client = _clients.pop(asyncio.get_running_loop(), None)
    if client is not None:
        await client.close()
