"""Bounds of the integer columns, for input fields (pydantic, no web framework here).

Every integer the API takes is checked against 64 bits app-wide (web/inputs.py); a field
stored in a 32-bit INTEGER column says so with `Int32` (or `le=INT32_MAX`), so that SQLite,
which would store a larger number, refuses it as PostgreSQL does.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1

# A row id (BIGINT identity): ids start at 1.
Id = Annotated[int, Field(ge=1, le=INT64_MAX)]
# A number kept in an INTEGER column (versions, seconds, unit ids).
Int32 = Annotated[int, Field(ge=INT32_MIN, le=INT32_MAX)]
