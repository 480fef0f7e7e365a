"""Input no database column can hold, refused as 422 before any route runs.

Two kinds of value pass most field types yet fail in the database, differently per engine:
a NUL character (PostgreSQL refuses it in text, SQLite stores it) and an integer beyond
64 bits (both drivers overflow). One app-wide dependency looks at every path and query
parameter and every JSON or form body for them, so no route or model can forget; fields
bound to a 32-bit column carry their own bounds (`hotline.types`). What still reaches the
database is named by `locate` in the error handler (web/errors.py).

A page whose form is shown again on a mistake takes its form's NULs itself, by declaring a
`FormRefusals` parameter: the app-wide check leaves that route's form fields to it, and the
page shows the message next to the field with everything typed kept (NULs taken out), as
for any other mistake, instead of a refusal page that loses what was typed.
"""

from __future__ import annotations

import contextlib
import types
import typing
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from starlette.datastructures import UploadFile

from hotline.messages import Message, msg
from hotline.types import INT64_MAX, INT64_MIN

NUL = "\x00"
NUL_MESSAGE = msg("Không được chứa ký tự NUL (\\x00)")
_NUL_REMOVED = msg(
    "Có ký tự NUL (\\x00), không lưu được: ký tự đó đã được bỏ đi, vui lòng xem lại rồi gửi lại"
)
_RANGE_MESSAGE = msg("Số nguyên phải nằm trong khoảng {low}..{high}", low=INT64_MIN, high=INT64_MAX)


def bad_values(value: Any, loc: tuple[Any, ...]) -> list[dict[str, Any]]:
    """Validation errors (FastAPI's shape) for NULs and oversized numbers anywhere in
    `value`, a JSON document or a parameter."""
    errors: list[dict[str, Any]] = []
    _walk(value, loc, errors)
    return errors


def _walk(value: Any, loc: tuple[Any, ...], errors: list[dict[str, Any]]) -> None:
    if isinstance(value, str):
        if NUL in value:
            errors.append({"loc": loc, "msg": NUL_MESSAGE, "type": "string_nul"})
    elif isinstance(value, bool):
        return
    elif isinstance(value, int | float):
        # A float this large would also be taken for an integer by a lax int field.
        if not INT64_MIN <= value <= INT64_MAX:
            errors.append({"loc": loc, "msg": _RANGE_MESSAGE, "type": "int_range"})
    elif isinstance(value, dict):
        for key, item in value.items():
            _walk(item, (*loc, key), errors)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, (*loc, index), errors)


def _takes_float_only(annotation: Any) -> bool:
    """A float field (not an int one): any number fits it, and its own bounds answer."""
    if annotation is float:
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        return any(_takes_float_only(a) for a in args) and not any(_takes_int(a) for a in args)
    return False


def _float_fields(route: Any) -> frozenset[str]:
    """The top-level fields of the route's JSON body model that take a float, not an int:
    their numbers are left to the model and the service, which name the field's own range
    (a temperature of 1e308 is out of 30–44, not "an integer beyond 64 bits")."""
    cached = getattr(route, "_hotline_float_fields", None)
    if cached is not None:
        return cached
    model = getattr(
        getattr(getattr(route, "body_field", None), "field_info", None), "annotation", None
    )
    fields = getattr(model, "model_fields", None) or {}
    result = frozenset(n for n, f in fields.items() if _takes_float_only(f.annotation))
    route._hotline_float_fields = result
    return result


def _takes_int(annotation: Any) -> bool:
    if annotation is int:
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, list):
        return any(_takes_int(arg) for arg in typing.get_args(annotation))
    return False


def _int_params(route: Any) -> frozenset[tuple[str, str]]:
    cached = getattr(route, "_hotline_int_params", None)
    if cached is not None:
        return cached
    found: set[tuple[str, str]] = set()
    dependant = getattr(route, "dependant", None)
    if dependant is not None:
        for where, params in (
            ("path", dependant.path_params),
            ("query", dependant.query_params),
        ):
            for param in params:
                if _takes_int(param.field_info.annotation):
                    found.add((where, param.alias))
    result = frozenset(found)
    route._hotline_int_params = result
    return result


def _param_errors(where: str, name: str, raw: str, ints: frozenset[tuple[str, str]]) -> list:
    errors = bad_values(raw, (where, name))
    if (where, name) in ints:
        # Not a number: the route's own validation answers.
        with contextlib.suppress(ValueError):
            errors += bad_values(int(raw), (where, name))
    return errors


async def refuse_unstorable_input(request: Request) -> None:
    """App-wide dependency: 422 naming the parameter or body field that holds a NUL or an
    integer beyond 64 bits."""
    route = request.scope.get("route")
    ints = _int_params(route)
    errors: list[dict[str, Any]] = []
    for name, raw in request.path_params.items():
        errors += _param_errors("path", name, str(raw), ints)
    if not _declares(route, takes_its_query):
        for name, raw in request.query_params.multi_items():
            errors += _param_errors("query", name, raw, ints)
    # Only routes that declare a body: FastAPI has parsed it already (Starlette keeps the
    # parsed JSON or form on the request), so this reads no byte twice. Case intake parses
    # its own body and checks it itself (cases/api.py).
    if getattr(route, "body_field", None) is not None:
        content_type = request.headers.get("content-type", "")
        if "json" in content_type:
            # Malformed JSON: FastAPI has answered before dependencies run.
            with contextlib.suppress(ValueError):
                body = await request.json()
                floats = _float_fields(route)
                if floats and isinstance(body, dict):
                    body = {k: v for k, v in body.items() if k not in floats}
                errors += bad_values(body, ("body",))
        elif "form" in content_type and not _takes_its_form(route):
            form = await request.form()
            for name, item in form.multi_items():
                if not isinstance(item, UploadFile):
                    errors += bad_values(item, ("body", name))
    if errors:
        raise RequestValidationError(errors)


async def form_refusals(request: Request) -> dict[str, Message]:
    """The posted form's fields holding a NUL, each with the message to show next to it (a
    route declaring this is left them by `refuse_unstorable_input`)."""
    found: dict[str, Message] = {}
    if "form" in request.headers.get("content-type", ""):
        for name, item in (await request.form()).multi_items():
            if isinstance(item, str) and NUL in item:
                found.setdefault(name, _NUL_REMOVED)
    return found


# A page route's parameter: `refused: FormRefusals`. The route must refuse what it holds,
# showing its form again with `without_nul` of what was typed.
FormRefusals = Annotated[dict[str, Message], Depends(form_refusals)]


async def takes_its_query() -> None:
    """A page route's dependency (`_: TakesItsQuery`): the route reads its address's query
    itself and leaves out, naming it, a value holding a NUL (the console's list,
    console/listquery.py), so the app-wide check does not refuse the page for it."""


TakesItsQuery = Annotated[None, Depends(takes_its_query)]


def without_nul(value: str) -> str:
    """A typed value to show again in its form: without the NULs no column can keep."""
    return value.replace(NUL, "")


def _takes_its_form(route: Any) -> bool:
    return _declares(route, form_refusals)


def _declares(route: Any, call: Any) -> bool:
    """Whether the route declares the dependency `call` (cached on the route)."""
    key = f"_hotline_declares_{call.__name__}"
    cached = getattr(route, key, None)
    if cached is not None:
        return bool(cached)
    dependant = getattr(route, "dependant", None)
    found = dependant is not None and any(d.call is call for d in dependant.dependencies)
    if route is not None:
        setattr(route, key, found)
    return found


def locate(request: Request, needle: Any) -> str | None:
    """The request field holding `needle` (a value the database refused), if any."""
    for name, raw in [*request.path_params.items(), *request.query_params.multi_items()]:
        if _matches(raw, needle):
            return str(name)
    parsed = getattr(request, "_json", None)
    if parsed is not None:
        return _find(parsed, needle, "")
    return None


def _matches(value: Any, needle: Any) -> bool:
    if isinstance(needle, str):
        return isinstance(value, str) and NUL in value
    if isinstance(value, bool):
        return False
    if isinstance(needle, int):
        if isinstance(value, int | float) and value == needle:
            return True
        return isinstance(value, str) and value.strip().lstrip("+") == str(needle)
    return False


def _find(value: Any, needle: Any, path: str) -> str | None:
    if isinstance(value, dict):
        for key, item in value.items():
            if (hit := _find(item, needle, f"{path}.{key}" if path else str(key))) is not None:
                return hit
        return None
    if isinstance(value, list):
        for index, item in enumerate(value):
            if (hit := _find(item, needle, f"{path}[{index}]")) is not None:
                return hit
        return None
    return (path or "body") if _matches(value, needle) else None
