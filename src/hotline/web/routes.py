"""Routes for the hot path that FastAPI documents but does not solve, served before routing.

FastAPI's request handler solves the route's dependencies (and the app-wide ones), runs
the endpoint, then validates and serialises its return value: about a tenth of case
intake's CPU in the web process. `DirectRoute` keeps everything else of an `APIRoute` (its
OpenAPI entry, the app's exception handlers, the body limit) but calls the endpoint with
the `Request` and sends the `Response` it returns. Such an endpoint does itself what the
dependencies would: authenticate the caller, parse and check its input (including what
`web/inputs.py`'s app-wide check refuses), and serialise its answer.

`serve_before_routing` then answers a direct route's exact method and path without the
router: FastAPI's routing walks the included routers and wraps the endpoint in two exit
stacks, about a twentieth of an intake's CPU. It sits where the router does (inside the
app's exception handlers and every middleware, the request guard included), puts the
route in the scope as the router would (metrics, the guard's content-type check), and
leaves every other request, and every request when FastAPI's telemetry is on (it learns
the route from the router), to the router.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

Endpoint = Callable[[Request], Coroutine[Any, Any, Response]]


class DirectRoute(APIRoute):
    def get_route_handler(self) -> Endpoint:
        endpoint: Endpoint = self.endpoint
        return endpoint


def serve_before_routing(app: FastAPI, routes: Iterable[BaseRoute]) -> None:
    """Serve these routes' direct ones ahead of the router (call once every router is in)."""
    table = {
        (method, route.path): route
        for route in routes
        if isinstance(route, DirectRoute) and route.max_body_size is None
        for method in route.methods or ()
    }
    if table:
        router = app.router
        router.middleware_stack = _BeforeRouting(router.middleware_stack, table, router)


class _BeforeRouting:
    def __init__(self, app: ASGIApp, table: dict[tuple[str, str], DirectRoute], router: Any):
        self.app, self.table, self.router = app, table, router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = (
            self.table.get((scope["method"], scope["path"]))
            if scope["type"] == "http" and "fastapi.telemetry" not in scope
            else None
        )
        if route is None:
            await self.app(scope, receive, send)
            return
        # What the router's match leaves in the scope for such a route.
        scope.setdefault("router", self.router)
        scope["endpoint"] = route.endpoint
        scope["path_params"] = {}
        scope["route"] = route
        endpoint: Endpoint = route.endpoint
        response = await endpoint(Request(scope, receive, send))
        await response(scope, receive, send)
