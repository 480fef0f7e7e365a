"""Routes for the hot path that FastAPI documents but does not solve, served before routing.

FastAPI's request handler solves the route's dependencies (and the app-wide ones), runs
the endpoint, then validates and serialises its return value: about a tenth of case
intake's CPU in the web process. `DirectRoute` keeps everything else of an `APIRoute` (its
OpenAPI entry, the app's exception handlers, the body limit) but calls the endpoint with
the `Request` and sends the `Response` it returns. Such an endpoint does itself what the
dependencies would: authenticate the caller, parse and check its input (including what
`web/inputs.py`'s app-wide check refuses), and serialise its answer.

`serve_before_routing` then answers a direct route's method and path without the router:
FastAPI's routing walks the included routers and wraps the endpoint in two exit stacks,
about a twentieth of an intake's CPU and a sixth of a webhook's. A route's path is either
exact (`/api/v1/cases`) or a fixed prefix and one last segment as its only parameter
(`/hooks/{channel_id}`): that segment is handed to the endpoint as the string the router
would give (`request.path_params`), and the endpoint checks it itself. It sits where the
router does (inside the app's exception handlers and every middleware, the request guard
included), puts the route in the scope as the router would (metrics, the guard's
content-type check), and leaves every other request, and every request when FastAPI's
telemetry is on (it learns the route from the router), to the router.
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
    exact: dict[tuple[str, str], DirectRoute] = {}
    last: dict[tuple[str, str], tuple[DirectRoute, str]] = {}
    for route in routes:
        if not isinstance(route, DirectRoute) or route.max_body_size is not None:
            continue
        head, _, tail = route.path.rpartition("/")
        for method in route.methods or ():
            if "{" not in route.path:
                exact[(method, route.path)] = route
            elif "{" not in head and _is_plain_param(tail):
                last[(method, head)] = (route, tail[1:-1])
    if exact or last:
        router = app.router
        router.middleware_stack = _BeforeRouting(router.middleware_stack, exact, last, router)


def _is_plain_param(segment: str) -> bool:
    """`{name}`: a whole segment, no convertor (`{name:int}` is left to the router)."""
    return segment.startswith("{") and segment.endswith("}") and segment[1:-1].isidentifier()


class _BeforeRouting:
    def __init__(
        self,
        app: ASGIApp,
        exact: dict[tuple[str, str], DirectRoute],
        last: dict[tuple[str, str], tuple[DirectRoute, str]],
        router: Any,
    ):
        self.app, self.exact, self.last, self.router = app, exact, last, router

    def _match(self, scope: Scope) -> tuple[DirectRoute | None, dict[str, Any]]:
        if scope["type"] != "http" or "fastapi.telemetry" in scope:
            return None, {}
        method, path = scope["method"], scope["path"]
        route = self.exact.get((method, path))
        if route is not None:
            return route, {}
        if self.last:
            head, _, tail = path.rpartition("/")
            hit = self.last.get((method, head)) if tail else None
            if hit is not None:
                return hit[0], {hit[1]: tail}
        return None, {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route, params = self._match(scope)
        if route is None:
            await self.app(scope, receive, send)
            return
        # What the router's match leaves in the scope for such a route.
        scope.setdefault("router", self.router)
        scope["endpoint"] = route.endpoint
        scope["path_params"] = params
        scope["route"] = route
        endpoint: Endpoint = route.endpoint
        response = await endpoint(Request(scope, receive, send))
        await response(scope, receive, send)
