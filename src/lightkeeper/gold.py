"""Gold datasets: labelled, content-hashed, owned and signed off by the business.

A gold file (CSV or Parquet) is checked against the project's input schema, normalised
to the schema's types, hashed, and written once as Parquet into the workspace artifact
folder; the same content again is a no-op, new content is a new version.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lightkeeper.auth import Principal, Whoami
from lightkeeper.errors import GoldDatasetInvalid, InvalidInput
from lightkeeper.events import EventBus, GoldDatasetAdded, GoldDatasetApproved
from lightkeeper.lineage import fingerprint_frame
from lightkeeper.manifest import InputField, Manifest
from lightkeeper.names import check_name
from lightkeeper.store.gold import GoldStore, GoldVersion

if TYPE_CHECKING:
    import pandas as pd

    from lightkeeper.registry import Registry

log = logging.getLogger(__name__)

MAX_LISTED = 5


def read_table(path: Path, manifest: Manifest | None = None) -> pd.DataFrame:
    """Read a CSV or Parquet file, with a clear error for anything else.

    With a manifest, text and category columns of a CSV are read as text, so that
    ``"01234"`` stays a zip code instead of becoming the number 1234.
    """
    import pandas as pd

    text_columns = {
        field.name: str
        for field in (manifest.input_schema if manifest else [])
        if field.type in ("str", "category")
    }

    if not path.is_file():
        raise GoldDatasetInvalid(
            f"no file at {path}", hint="give the path of a CSV or Parquet file"
        )
    suffix = path.suffix.lower()
    try:
        if suffix in {".parquet", ".pq"}:
            return pd.read_parquet(path)
        if suffix in {".csv", ".txt"}:
            return pd.read_csv(path, dtype=text_columns or None)
    except Exception as exc:
        raise GoldDatasetInvalid(
            f"cannot read {path}: {type(exc).__name__}: {exc}",
            hint="check the file is a valid CSV (with a header row) or Parquet file",
        ) from None
    raise GoldDatasetInvalid(
        f"{path} is neither CSV nor Parquet", hint="use a .csv or .parquet file"
    )


def conform(
    frame: pd.DataFrame,
    manifest: Manifest,
    *,
    label_column: str,
    segment_column: str | None,
) -> pd.DataFrame:
    """Check a gold frame against the input schema and cast it to the schema's types.

    Every problem is collected, so one error names every bad column.
    """
    problems: list[str] = []
    columns = [str(c) for c in frame.columns]
    if len(set(columns)) != len(columns):
        problems.append("duplicate column names")
    features = manifest.feature_names
    missing = [c for c in features if c not in columns]
    if missing:
        problems.append(f"missing input column(s): {', '.join(missing)}")
    if label_column not in columns:
        problems.append(f"missing label column {label_column!r}")
    if segment_column is not None and segment_column not in columns:
        problems.append(f"missing segment column {segment_column!r}")
    allowed = {*features, label_column, *manifest.extra_columns, *(manifest.entity_key or [])}
    if segment_column:
        allowed.add(segment_column)
    extra = [c for c in columns if c not in allowed]
    if extra:
        problems.append(
            f"extra column(s) {', '.join(extra)}: remove them, or declare them under "
            "extra_columns in lightkeeper.yaml"
        )
    if problems:
        raise GoldDatasetInvalid("; ".join(problems), hint=_schema_hint(manifest, label_column))
    out = frame.copy()
    for field in manifest.input_schema:
        try:
            out[field.name] = _cast(out[field.name], field)
        except _Mistyped as exc:
            problems.append(f"column {field.name!r} {exc}")
    if label_column in out and out[label_column].isna().any():
        count = int(out[label_column].isna().sum())
        problems.append(f"label column {label_column!r} has {count} missing value(s)")
    if problems:
        raise GoldDatasetInvalid("; ".join(problems), hint=_schema_hint(manifest, label_column))
    if out.empty:
        raise GoldDatasetInvalid("the gold file has no rows", hint="a gold set needs labelled rows")
    return out.reset_index(drop=True)


class _Mistyped(ValueError):
    pass


def _rows(mask: Any) -> str:
    hits = mask[mask].index
    rows = [int(i) + 2 for i in hits[:MAX_LISTED]]  # +2: header line, 1-based
    more = f" and {len(hits) - MAX_LISTED} more" if len(hits) > MAX_LISTED else ""
    return ", ".join(map(str, rows)) + more


def _show(value: Any) -> str:
    """A cell value as the user wrote it (numpy scalars as plain numbers)."""
    return repr(value.item() if hasattr(value, "item") else value)


def _cast(column: pd.Series, field: InputField) -> pd.Series:
    import numpy as np
    import pandas as pd

    present = column.notna()
    if field.required and not present.all():
        raise _Mistyped(
            f"is required but has {int((~present).sum())} missing value(s) "
            f"(file lines {_rows(~present)})"
        )
    if field.type in {"float", "int"}:
        numbers = pd.to_numeric(column, errors="coerce")
        bad = present & numbers.isna()
        if bad.any():
            raise _Mistyped(
                f"should be {field.type} but has text such as {_show(column[bad].iloc[0])} "
                f"(file lines {_rows(bad)})"
            )
        if field.type == "int":
            fractional = present & (numbers % 1 != 0)
            if fractional.any():
                raise _Mistyped(
                    f"should be int but has {_show(numbers[fractional].iloc[0])} "
                    f"(file lines {_rows(fractional)})"
                )
            numbers = numbers.astype("int64") if present.all() else numbers.astype("float64")
        else:
            numbers = numbers.astype("float64")
        _check_range(numbers, field)
        return numbers
    if field.type == "bool":
        mapping = {
            "true": True,
            "false": False,
            "1": True,
            "0": False,
            "1.0": True,
            "0.0": False,
            "yes": True,
            "no": False,
        }
        text = column.astype(str).str.strip().str.lower()
        mapped = text.map(mapping)
        bad = present & mapped.isna()
        if bad.any():
            raise _Mistyped(f"should be true/false but has {_show(column[bad].iloc[0])}")
        return mapped.astype("bool") if present.all() else mapped
    if field.type == "datetime":
        parsed = pd.to_datetime(column, errors="coerce", utc=True)
        bad = present & parsed.isna()
        if bad.any():
            raise _Mistyped(f"should be a date/time but has {_show(column[bad].iloc[0])}")
        return parsed
    text = column.astype(object).where(present, None)
    text = text.map(lambda v: v if v is None else str(v))
    if field.categories is not None:
        # Values take the type the manifest declares (categories [1, 2] stay ints), so
        # the gold set looks like the training data did to the model.
        declared = {str(c): c for c in field.categories}
        unknown = present & ~text.isin(set(declared))
        if unknown.any():
            values = sorted(set(text[unknown]))[:MAX_LISTED]
            raise _Mistyped(
                f"has value(s) outside its categories: {', '.join(map(repr, values))} "
                f"(file lines {_rows(unknown)}); allowed: {', '.join(sorted(declared))}"
            )
        return text.map(lambda v: np.nan if v is None else declared[v]).astype(object)
    return text.astype(object).where(present, np.nan)


def _check_range(numbers: pd.Series, field: InputField) -> None:
    low, high = field.min, field.max
    if low is not None:
        below = numbers < low
        if below.any():
            raise _Mistyped(
                f"has value(s) below its min {low}, such as {_show(numbers[below].iloc[0])} "
                f"(file lines {_rows(below)})"
            )
    if high is not None:
        above = numbers > high
        if above.any():
            raise _Mistyped(
                f"has value(s) above its max {high}, such as {_show(numbers[above].iloc[0])} "
                f"(file lines {_rows(above)})"
            )


def _schema_hint(manifest: Manifest, label_column: str) -> str:
    expected = ", ".join(f"{f.name} ({f.type})" for f in manifest.input_schema)
    return f"the gold file needs the input columns {expected} and the label {label_column!r}"


def store_gold(
    store: GoldStore,
    folder: Path,
    *,
    name: str,
    frame: pd.DataFrame,
    manifest: Manifest,
    owner: str,
    label_column: str,
    segment_column: str | None,
    source: str,
    actor: str,
) -> tuple[GoldVersion, bool]:
    """Conform, hash and store a gold frame; returns (version, created).

    The same content again returns the existing version with ``created=False``.
    """
    check_name(name, "gold dataset")
    if not owner.strip():
        raise InvalidInput(
            "a gold dataset needs an owner", hint="--owner the business owner who signs it off"
        )
    data = conform(frame, manifest, label_column=label_column, segment_column=segment_column)
    content_hash = fingerprint_frame(data).hash
    existing = store.find_hash(name, content_hash)
    if existing is not None:
        _same_terms(existing, owner=owner, label_column=label_column, segment_column=segment_column)
        log.info("gold dataset %s: content already stored as version %s", name, existing.version)
        return existing, False
    target = folder / name / f"{content_hash.removeprefix('sha256:')[:24]}.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".parquet.tmp")
    os.close(fd)
    try:
        data.to_parquet(tmp, index=False)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    columns = [{"name": str(c), "dtype": str(t)} for c, t in data.dtypes.items()]
    version, _created = store.add_or_get(
        name=name,
        content_hash=content_hash,
        path=str(target),
        rows=len(data),
        columns=columns,
        label_column=label_column,
        segment_column=segment_column,
        owner=owner,
        source=source,
        created_by=actor,
    )
    log.info("gold dataset %s version %s: %s rows", name, version.version, version.rows)
    return version, True


def _same_terms(
    existing: GoldVersion, *, owner: str, label_column: str, segment_column: str | None
) -> None:
    """The same content under other terms is a mistake to point out, not a silent no-op."""
    given = {"owner": owner, "label column": label_column, "segment column": segment_column}
    stored = {
        "owner": existing.owner,
        "label column": existing.label_column,
        "segment column": existing.segment_column,
    }
    differ = [f"{k} {stored[k]!r} (given {given[k]!r})" for k in given if given[k] != stored[k]]
    if differ:
        raise GoldDatasetInvalid(
            f"this content is already {existing.name} version {existing.version} with "
            + ", ".join(differ),
            hint="a version's terms are fixed; add the data under a new name to change them",
        )


def load_gold(version: GoldVersion) -> pd.DataFrame:
    """The rows of a stored gold version."""
    import pandas as pd

    path = Path(version.path)
    if not path.is_file():
        raise GoldDatasetInvalid(
            f"the file of gold dataset {version.name} version {version.version} is gone: {path}",
            hint="add the gold file again (lightkeeper gold add) to restore it",
        )
    return pd.read_parquet(path)


class GoldDatasets:
    """Add gold dataset versions and record the business owner's sign-off."""

    def __init__(
        self, *, gold: GoldStore, registry: Registry, bus: EventBus, folder: Path, whoami: Whoami
    ) -> None:
        self._whoami = whoami
        self._store = gold
        self._registry = registry
        self._bus = bus
        self._folder = folder

    def datasets(self) -> list[GoldVersion]:
        """The newest version of every gold dataset."""
        return self._store.list()

    def versions(self, name: str) -> list[GoldVersion]:
        """Every version of a gold dataset (:class:`~lightkeeper.errors.GoldDatasetNotFound`
        if there is no such dataset)."""
        self._store.get(name)
        return self._store.versions(name)

    def version(self, name: str, version: int | None = None) -> GoldVersion:
        """One gold dataset version (default: the newest)."""
        return self._store.get(name, version)

    def add(
        self,
        name: str,
        data: str | Path | pd.DataFrame,
        *,
        owner: str,
        label_column: str,
        segment_column: str | None = None,
        project_dir: str | Path | None = None,
        model: str | None = None,
        by: Principal | None = None,
    ) -> tuple[GoldVersion, bool]:
        """Add a version from a file or frame; returns (version, created).

        The columns are checked against the input schema of ``project_dir``'s manifest,
        or of the manifest stored with ``model``'s newest version.
        """
        by = by or self._whoami()
        by.require("gold.add")
        manifest = self._schema(project_dir, model)
        frame = data if not isinstance(data, str | Path) else read_table(Path(data), manifest)
        source = str(Path(data).absolute()) if isinstance(data, str | Path) else "frame"
        version, created = store_gold(
            self._store,
            self._folder,
            name=name,
            frame=frame,
            manifest=manifest,
            owner=owner,
            label_column=label_column,
            segment_column=segment_column,
            source=source,
            actor=by.name,
        )
        if created:
            self._bus.publish(
                GoldDatasetAdded(
                    actor=by.name,
                    name=version.name,
                    version=version.version,
                    content_hash=version.content_hash,
                    rows=version.rows,
                    owner=version.owner,
                )
            )
        return version, created

    def _schema(self, project_dir: str | Path | None, model: str | None) -> Manifest:
        from lightkeeper.manifest import load_manifest

        if project_dir is not None:
            return load_manifest(project_dir)
        if model is None:
            raise InvalidInput(
                "a gold dataset is checked against a project's input schema",
                hint="name the project folder (--project DIR) or a registered model (--model)",
            )
        manifest = self._registry.manifest(model, "latest")
        if manifest is None:
            raise InvalidInput(
                f"the newest version of {model} has no manifest snapshot",
                hint="use --project DIR with the project's folder",
            )
        return manifest

    def approve(
        self, name: str, version: int, *, note: str = "", by: Principal | None = None
    ) -> GoldVersion:
        """Record the business owner's sign-off of a version."""
        by = by or self._whoami()
        by.require("gold.approve")
        approved = self._store.approve(name, version, actor=by.name, note=note)
        self._bus.publish(
            GoldDatasetApproved(
                actor=by.name, reason=note, name=name, version=version, role=by.role
            )
        )
        return approved
