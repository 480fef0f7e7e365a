"""A route for the hot path that FastAPI documents but does not solve.

FastAPI's request handler solves the route's dependencies (and the app-wide ones), runs
the endpoint, then validates and serialises its return value: about a tenth of case
intake's CPU in the web process. `DirectRoute` keeps everything else of an `APIRoute` (its
OpenAPI entry, the app's exception handlers, the body limit) but calls the endpoint with
the `Request` and sends the `Response` it returns. Such an endpoint does itself what the
dependencies would: authenticate the caller, parse and check its input (including what
`web/inputs.py`'s app-wide check refuses), and serialise its answer.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

Endpoint = Callable[[Request], Coroutine[Any, Any, Response]]


class DirectRoute(APIRoute):
    def get_route_handler(self) -> Endpoint:
        endpoint: Endpoint = self.endpoint
        return endpoint
