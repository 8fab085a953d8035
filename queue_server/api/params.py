"""What the API modules share about requests: strict JSON bodies and ticket ids in paths."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, ConfigDict

#: Ticket ids are 64-bit database keys: a larger number is refused before it reaches SQL.
MAX_ID = 2**63 - 1
TicketId = Annotated[int, Path(ge=1, le=MAX_ID)]


class StrictBody(BaseModel):
    """A JSON body: unknown fields refused, and `"yes"` is not a boolean nor `"5"` a number
    (JSON has the real types)."""

    model_config = ConfigDict(extra="forbid", strict=True)
