"""Security headers on every response (added by the request observer, web/observe.py).

- Content-Security-Policy: scripts, styles, images and connections from this origin only;
  no inline script or style (the pages' JS and CSS are files under /static), no framing
  (`frame-ancestors 'none'`), no plugins, forms post only here. Swagger UI's CSS draws its
  icons as data: URIs, hence `img-src 'self' data:`.
- X-Content-Type-Options: nosniff, Referrer-Policy: same-origin, X-Frame-Options: DENY for
  browsers without CSP level 2.
- Strict-Transport-Security when the request came over HTTPS or the site runs in production
  (behind a TLS-terminating proxy the scheme seen here may be http).
- Cache-Control: no-store unless the route set its own: case data, contact cards and pages
  with callers' numbers must not stay in shared or browser caches. Static files may be cached.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HSTS = b"max-age=31536000; includeSubDomains"
STATIC_PREFIX = "/static/"

Scope = dict[str, Any]


class SecurityHeaders:
    """The headers a response gets, for web/observe.py's middleware to add: it sees every
    response's start already (one middleware layer on every request instead of two)."""

    def __init__(self, *, production: bool) -> None:
        self.production = production
        # The headers added, for each (HSTS, not static) case, made once.
        common = [
            (b"content-security-policy", CSP.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
            (b"x-frame-options", b"DENY"),
        ]
        hsts = [(b"strict-transport-security", HSTS)]
        no_store = [(b"cache-control", b"no-store")]
        self._extra = {
            (secure, dynamic): common + (hsts if secure else []) + (no_store if dynamic else [])
            for secure in (False, True)
            for dynamic in (False, True)
        }

    def for_request(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        """The headers this request's response gets unless the route set them itself."""
        return self._extra[
            (
                self.production or scope.get("scheme") == "https",
                not scope.get("path", "").startswith(STATIC_PREFIX),
            )
        ]


def with_headers(
    headers: Iterable[tuple[bytes, bytes]], extra: list[tuple[bytes, bytes]]
) -> list[tuple[bytes, bytes]]:
    """A new list: `headers` and those of `extra` it does not have (by name, any case)."""
    headers = list(headers)
    present = {name.lower() for name, _ in headers}
    return headers + [(k, v) for k, v in extra if k not in present]
