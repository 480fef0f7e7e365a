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

import annotated_types
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


def bad_values(value: Any, loc: tuple[Any, ...], model: Any = None) -> list[dict[str, Any]]:
    """Validation errors (FastAPI's shape) for NULs and oversized numbers anywhere in
    `value`, a JSON document or a parameter; `model`: the body's model, whose fields with
    a range of their own answer an oversized number with that range."""
    errors: list[dict[str, Any]] = []
    _walk(value, loc, errors, model, 1)
    return errors


def _walk(
    value: Any, loc: tuple[Any, ...], errors: list[dict[str, Any]], model: Any, skip: int
) -> None:
    if isinstance(value, str):
        if NUL in value:
            errors.append({"loc": loc, "msg": NUL_MESSAGE, "type": "string_nul"})
    elif isinstance(value, bool):
        # A lax number field takes true as 1: `"age": true` would register a one-year-old.
        kind = _number_kind(model, loc[skip:])
        if kind is not None:
            errors.append({"loc": loc, "msg": "", "type": f"{kind}_type"})
    elif isinstance(value, int | float):
        if value != value:  # NaN: not a number beyond 64 bits, not a number at all
            errors.append({"loc": loc, "msg": "", "type": "finite_number"})
        # A float this large would also be taken for an integer by a lax int field.
        elif not INT64_MIN <= value <= INT64_MAX:
            errors.append(_beyond(value, loc, _bounds_at(model, loc[skip:])))
    elif isinstance(value, dict):
        for key, item in value.items():
            _walk(item, (*loc, key), errors, model, skip)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, (*loc, index), errors, model, skip)


def _beyond(value: Any, loc: tuple[Any, ...], bounds: tuple[Any, Any]) -> dict[str, Any]:
    """The error for a number beyond 64 bits (or infinite): the field's own range when it
    has one (an SpO2 of 1e400 is above 100, as 101 is, whatever the engine would say),
    else the 64-bit range."""
    low, high = bounds
    if high is not None and value > high:
        return {"loc": loc, "msg": "", "type": "less_than_equal", "ctx": {"le": high}}
    if low is not None and value < low:
        return {"loc": loc, "msg": "", "type": "greater_than_equal", "ctx": {"ge": low}}
    return {"loc": loc, "msg": _RANGE_MESSAGE, "type": "int_range"}


def _unwrapped(annotation: Any, metadata: list[Any]) -> tuple[Any, list[Any]]:
    """The annotation without Optional and Annotated, with the constraints they carried."""
    while True:
        if typing.get_origin(annotation) is Annotated:
            annotation, *extra = typing.get_args(annotation)
            for item in extra:
                metadata += getattr(item, "metadata", None) or [item]
        elif typing.get_origin(annotation) in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation, metadata
            annotation = args[0]
        else:
            return annotation, metadata


def _field_at(model: Any, path: tuple[Any, ...]) -> tuple[Any, list[Any]] | None:
    """The annotation of the body field at `path` and its constraints (None: no such field
    in the model, or no model)."""
    if model is None:
        return None
    annotation, metadata = model, []
    for key in path:
        annotation, _ = _unwrapped(annotation, [])
        fields = getattr(annotation, "model_fields", None)
        if isinstance(key, str) and fields is not None and key in fields:
            info = fields[key]
            annotation, metadata = info.annotation, list(info.metadata)
        elif isinstance(key, int) and typing.get_origin(annotation) is list:
            annotation, metadata = typing.get_args(annotation)[0], []
        else:
            return None
    return _unwrapped(annotation, metadata)


def _number_kind(model: Any, path: tuple[Any, ...]) -> str | None:
    """ "int" or "float" when the body field at `path` takes a number and no boolean."""
    found = _field_at(model, path)
    if found is None:
        return None
    annotation, _ = found
    args = (
        typing.get_args(annotation)
        if typing.get_origin(annotation) in (typing.Union, types.UnionType)
        else (annotation,)
    )
    if bool in args:
        return None
    if int in args:
        return "int"
    return "float" if float in args else None


def _bounds_at(model: Any, path: tuple[Any, ...]) -> tuple[Any, Any]:
    """The (lowest, highest) the body field at `path` allows (None where unbounded)."""
    found = _field_at(model, path)
    if found is None:
        return None, None
    _, metadata = found
    low = next((m.ge for m in metadata if isinstance(m, annotated_types.Ge)), None)
    high = next((m.le for m in metadata if isinstance(m, annotated_types.Le)), None)
    return low, high


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


def _body_model(route: Any) -> Any:
    return getattr(
        getattr(getattr(route, "body_field", None), "field_info", None), "annotation", None
    )


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
    # its own body and checks it itself (cases/api/__init__.py).
    if getattr(route, "body_field", None) is not None:
        content_type = request.headers.get("content-type", "")
        if "json" in content_type:
            # Malformed JSON: FastAPI has answered before dependencies run.
            with contextlib.suppress(ValueError):
                body = await request.json()
                floats = _float_fields(route)
                if floats and isinstance(body, dict):
                    # A boolean stays: a float field takes true as 1.0 too.
                    body = {
                        k: v
                        for k, v in body.items()
                        if k not in floats or isinstance(v, bool) or v != v
                    }
                errors += bad_values(body, ("body",), _body_model(route))
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
