"""The request dependencies the staffing routes share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from hotline.auth.service import Actor
from hotline.web.deps import current_actor, get_state
from hotline.web.state import AppState

ActorDep = Annotated[Actor, Depends(current_actor)]
StateDep = Annotated[AppState, Depends(get_state)]
