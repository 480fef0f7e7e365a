"""The request dependencies the staffing routes share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from pydantic import Field

from hotline.auth.service import Actor
from hotline.types import INT64_MAX
from hotline.web.deps import current_actor, get_state
from hotline.web.state import AppState

ActorDep = Annotated[Actor, Depends(current_actor)]
StateDep = Annotated[AppState, Depends(get_state)]
# Ids and counts as JSON numbers only: `true` is no shift 1 and `"7"` no user 7 (a type
# slip converted silently would place the wrong person on the wrong shift).
StrictId = Annotated[int, Field(strict=True, ge=1, le=INT64_MAX)]
