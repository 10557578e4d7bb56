"""``/gold``: gold datasets, their versions and the owner's sign-off."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from lightkeeper.asgi.errors import NOT_FOUND, NOT_FOUND_OR_REFUSED
from lightkeeper.web.deps import LK, Reader, Who
from lightkeeper.web.params import NewName, Number

router = APIRouter()


class GoldUpload(BaseModel):
    """A gold dataset sent as JSON records; checked against ``model``'s input schema."""

    model_config = ConfigDict(extra="forbid")
    name: str = NewName
    owner: str = Field(min_length=1)
    label_column: str = Field(min_length=1)
    segment_column: str | None = None
    model: str = Field(min_length=1, description="model whose newest manifest holds the schema")
    rows: list[dict[str, Any]] = Field(min_length=1)


class Approval(BaseModel):
    """The owner's sign-off note."""

    model_config = ConfigDict(extra="forbid")
    note: str = ""


@router.get("/gold", summary="Gold datasets (newest version of each)")
def gold_list(lk: LK, _who: Reader) -> dict[str, Any]:
    return {"gold": [g.to_dict() for g in lk.gold.datasets()]}


@router.get("/gold/{name}", summary="Every version of a gold dataset", responses=NOT_FOUND)
def gold_versions(name: str, lk: LK, _who: Reader) -> dict[str, Any]:
    return {"name": name, "versions": [g.to_dict() for g in lk.gold.versions(name)]}


@router.get(
    "/gold/{name}/versions/{version}", summary="One gold dataset version", responses=NOT_FOUND
)
def gold_version(name: str, version: Number, lk: LK, _who: Reader) -> dict[str, Any]:
    return lk.gold.version(name, version).to_dict()


@router.post(
    "/gold",
    status_code=201,
    summary="Add a gold dataset version from JSON rows",
    responses=NOT_FOUND_OR_REFUSED,
)
def gold_add(body: GoldUpload, lk: LK, who: Who) -> dict[str, Any]:
    import pandas as pd

    gold, created = lk.gold.add(
        body.name,
        pd.DataFrame.from_records(body.rows),
        owner=body.owner,
        label_column=body.label_column,
        segment_column=body.segment_column,
        model=body.model,
        by=who,
    )
    return {**gold.to_dict(), "created": created}


@router.post(
    "/gold/{name}/versions/{version}/approve",
    summary="The owner signs a version off",
    responses=NOT_FOUND_OR_REFUSED,
)
def gold_approve(name: str, version: Number, body: Approval, lk: LK, who: Who) -> dict[str, Any]:
    return lk.gold.approve(name, version, note=body.note, by=who).to_dict()
