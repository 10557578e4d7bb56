"""Path parameters and body fields that several routers share, so their schemas agree."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import Field

from lightkeeper.names import MAX_ID, MAX_NAME_LENGTH, NAME_PATTERN, NAME_RULE

Id = Annotated[int, Path(ge=1, le=MAX_ID, description="an id (1 to 2^31-1)")]
Number = Annotated[int, Path(ge=1, le=MAX_ID, description="a version number")]
# A new name's rule is checked where names are created (lightkeeper.names), for the CLI,
# the API and Python alike, with one message; the schema only shows it to clients.
NewName = Field(
    description=NAME_RULE,
    json_schema_extra={
        "minLength": 1,
        "maxLength": MAX_NAME_LENGTH,
        "pattern": f"^{NAME_PATTERN}$",
    },
)
