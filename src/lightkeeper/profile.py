"""Reference profiles: per-feature statistics of training data, enough to compute drift.

A :class:`Profile` is stored when a model version is registered. Drift statistics are
computed later from the profile alone, without the raw training data:

* Kolmogorov-Smirnov and Wasserstein use the quantile sketch
  (:attr:`NumericProfile.quantiles`, :meth:`NumericProfile.cdf`);
* chi-square, PSI and Jensen-Shannon compare training counts with the counts of new data
  in the same buckets: :attr:`NumericProfile.counts` with :meth:`NumericProfile.bin_counts`,
  :attr:`CategoricalProfile.counts` with :meth:`CategoricalProfile.category_counts`.

Numeric bins are right-closed. With the stored finite inner edges ``e1 < ... < ek`` the
``k + 1`` bins are ``(-inf, e1], (e1, e2], ..., (ek, +inf)``, so new values outside the
training range still land in the outermost bins. Datetimes are profiled as seconds since
the Unix epoch (UTC). Infinite values are counted as missing, so no statistic is NaN or
infinite and the JSON form never holds ``NaN``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from lightkeeper.errors import InvalidInput

__all__ = [
    "OTHER_LABEL",
    "PROFILE_VERSION",
    "CategoricalProfile",
    "FeatureProfile",
    "NumericProfile",
    "Profile",
    "build_profile",
]

logger = logging.getLogger(__name__)

PROFILE_VERSION = 1
"""Version of the JSON layout written by :meth:`Profile.to_dict`."""

OTHER_LABEL = "__other__"
"""Label of the bucket for categories outside a profile's most frequent ones."""

_NUMERIC_TYPES = frozenset({"float", "int", "datetime"})
_CATEGORICAL_TYPES = frozenset({"bool", "str", "category"})

_Floats: TypeAlias = npt.NDArray[np.float64]
_Ints: TypeAlias = npt.NDArray[np.int64]
_Values: TypeAlias = "npt.ArrayLike | pd.Series[Any] | pd.Index"


@dataclass(frozen=True, kw_only=True)
class NumericProfile:
    """Statistics of one numeric feature (datetimes as epoch seconds).

    Attributes:
        dtype: lightkeeper type of the column: ``"float"``, ``"int"`` or ``"datetime"``.
        count: non-missing values.
        missing: missing values (NaN, None, NaT and +/-inf).
        missing_share: ``missing`` divided by the rows of the training data.
        mean: mean, None when ``count`` is 0.
        std: standard deviation with ddof=1, None when ``count`` is below 2.
        min: smallest value, None when ``count`` is 0.
        max: largest value, None when ``count`` is 0.
        quantiles: values at ``len(quantiles)`` evenly spaced probabilities from 0 to 1
            (numpy's "linear" method); the sketch for KS and Wasserstein. None when
            ``count`` is 0.
        edges: sorted, distinct, finite inner bin edges from equal-frequency quantiles;
            bins are ``(-inf, e1], ..., (ek, +inf)``. None when ``count`` is 0.
        counts: training values per bin, ``len(edges) + 1`` of them, summing to ``count``.
    """

    dtype: str
    count: int
    missing: int
    missing_share: float
    mean: float | None
    std: float | None
    min: float | None
    max: float | None
    quantiles: tuple[float, ...] | None
    edges: tuple[float, ...] | None
    counts: tuple[int, ...] | None
    kind: Literal["numeric"] = field(default="numeric", init=False)

    def __post_init__(self) -> None:
        edges, counts = self.edges, self.counts
        if edges is not None and counts is not None and len(counts) != len(edges) + 1:
            raise InvalidInput(
                f"a numeric profile has {len(edges)} bin edges but {len(counts)} counts",
                hint="there must be one count more than edges; rebuild the profile",
            )

    @property
    def probabilities(self) -> _Floats:
        """The probabilities of :attr:`quantiles`, evenly spaced from 0 to 1."""
        return np.linspace(0.0, 1.0, 0 if self.quantiles is None else len(self.quantiles))

    def bin_counts(self, values: _Values) -> _Ints:
        """Count new values into the training bins; missing values are left out.

        Args:
            values: numbers, or datetimes when :attr:`dtype` is ``"datetime"``.

        Returns:
            ``len(edges) + 1`` counts, in the order of :attr:`counts`.
        """
        x = _to_float(values, self.dtype)
        x = x[np.isfinite(x)]
        edges = np.asarray(self.edges or (), dtype=np.float64)
        # side="left" puts x == e_i into bin i, which makes the bins right-closed.
        bins = np.searchsorted(edges, x, side="left")
        return np.bincount(bins, minlength=edges.size + 1).astype(np.int64, copy=False)

    def cdf(self, x: _Values) -> _Floats:
        """The training CDF, P(X <= x), interpolated linearly from the quantile sketch.

        Args:
            x: points to evaluate at; missing points give NaN.

        Raises:
            InvalidInput: the training column had no non-missing values.
        """
        if self.quantiles is None:
            raise InvalidInput(
                "the profile has no non-missing values, so it has no CDF",
                hint="check count before computing drift statistics",
            )
        q = np.asarray(self.quantiles, dtype=np.float64)
        p = self.probabilities
        # Tables indexed by the number of sketch values <= x (0..m): the CDF is
        # start + (x - origin) * slope, flat below the minimum and above the maximum.
        # Ties in the sketch give zero-width intervals that no x can fall into.
        width = np.diff(q)
        with np.errstate(divide="ignore", invalid="ignore"):
            rise = np.where(width > 0, np.diff(p) / width, 0.0)
        start = np.concatenate(([0.0], p[:-1], [1.0]))
        origin = np.concatenate(([q[0]], q[:-1], [q[-1]]))
        slope = np.concatenate(([0.0], rise, [0.0]))
        points = _to_float(x, self.dtype)
        at = np.searchsorted(q, points, side="right")
        with np.errstate(invalid="ignore"):  # inf * 0 is fixed just below
            out = start[at] + (points - origin[at]) * slope[at]
        infinite = np.isinf(points)
        if infinite.any():
            out = np.where(infinite, (points > 0).astype(np.float64), out)
        return np.asarray(out, dtype=np.float64)


@dataclass(frozen=True, kw_only=True)
class CategoricalProfile:
    """Statistics of one categorical feature; values are compared as strings.

    Attributes:
        dtype: lightkeeper type of the column: ``"str"``, ``"category"`` or ``"bool"``.
        count: non-missing values.
        missing: missing values (NaN, None, NA).
        missing_share: ``missing`` divided by the rows of the training data.
        frequencies: value (as ``str(value)``, so ``True`` is ``"True"``) -> count for
            the most frequent values, most frequent first, ties in label order.
        other: non-missing values outside ``frequencies``.
    """

    dtype: str
    count: int
    missing: int
    missing_share: float
    frequencies: dict[str, int]
    other: int
    kind: Literal["categorical"] = field(default="categorical", init=False)

    @property
    def labels(self) -> list[str]:
        """The buckets: the profiled categories, then :data:`OTHER_LABEL`."""
        return [*self.frequencies, OTHER_LABEL]

    @property
    def counts(self) -> tuple[int, ...]:
        """Training counts in the order of :attr:`labels`."""
        return (*self.frequencies.values(), self.other)

    def category_counts(self, values: _Values) -> tuple[list[str], _Ints]:
        """Count new values into the training buckets; missing values are left out.

        Values not among :attr:`frequencies` (including ones never seen in training) are
        counted under :data:`OTHER_LABEL`. A training value literally equal to
        ``"__other__"`` would be ambiguous; such a label is not supported.

        Returns:
            (:attr:`labels`, counts in that order).
        """
        series = values if isinstance(values, pd.Series) else pd.Series(values)
        seen = _string_counts(series)
        known = seen.reindex(list(self.frequencies), fill_value=0).to_numpy(dtype=np.int64)
        other = int(seen.sum()) - int(known.sum())
        return self.labels, np.append(known, np.int64(other))


FeatureProfile: TypeAlias = NumericProfile | CategoricalProfile


@dataclass(frozen=True, kw_only=True)
class Profile:
    """The reference profile of a training data set.

    Attributes:
        rows: rows of the training data.
        features: profile per column, in column order.
        version: version of the layout, :data:`PROFILE_VERSION`.
    """

    rows: int
    features: dict[str, FeatureProfile]
    version: int = PROFILE_VERSION

    def to_dict(self) -> dict[str, Any]:
        """The profile as plain JSON types; missing statistics are None, never NaN."""
        return {
            "version": self.version,
            "rows": self.rows,
            "features": {name: _feature_to_dict(f) for name, f in self.features.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Profile:
        """Read a profile written by :meth:`to_dict`.

        Raises:
            InvalidInput: the version is not :data:`PROFILE_VERSION` or the data is malformed.
        """
        version = data.get("version")
        if version != PROFILE_VERSION:
            raise InvalidInput(
                f"profile version {version!r} is not supported; this lightkeeper reads "
                f"version {PROFILE_VERSION}",
                hint="upgrade lightkeeper, or rebuild the profile from the training data",
            )
        try:
            features = {str(n): _feature_from_dict(f) for n, f in data["features"].items()}
            return cls(rows=int(data["rows"]), features=features, version=version)
        except InvalidInput:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidInput(
                f"the profile is malformed: {exc!r}",
                hint="rebuild the profile from the training data",
            ) from exc

    def to_json(self) -> str:
        """The profile as compact JSON text."""
        return json.dumps(self.to_dict(), allow_nan=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> Profile:
        """Read a profile written by :meth:`to_json`.

        Raises:
            InvalidInput: the text is not JSON or not a profile.
        """
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InvalidInput(
                f"the profile is not valid JSON: {exc}",
                hint="rebuild the profile from the training data",
            ) from exc
        if not isinstance(data, dict):
            raise InvalidInput(
                f"the profile JSON is a {type(data).__name__}, not an object",
                hint="rebuild the profile from the training data",
            )
        return cls.from_dict(data)


def build_profile(
    frame: pd.DataFrame,
    *,
    schema: Mapping[str, str] | None = None,
    bins: int = 20,
    quantiles: int = 1001,
    max_categories: int = 200,
) -> Profile:
    """Profile training data for later drift checks.

    Args:
        frame: the training data.
        schema: column -> ``"float"``, ``"int"``, ``"datetime"`` (profiled as numbers) or
            ``"bool"``, ``"str"``, ``"category"`` (profiled as categories). Other columns
            of ``frame`` are ignored. When None, every column is profiled with a type
            inferred from its dtype.
        bins: equal-frequency bins for numeric columns; fewer when values repeat.
        quantiles: size of the quantile sketch of numeric columns.
        max_categories: most frequent values kept per categorical column.

    Raises:
        InvalidInput: ``frame`` has no rows, the schema names a column ``frame`` lacks or
            an unknown type, a numeric column holds non-numbers, or an argument is too small.
    """
    _check_at_least(bins=(bins, 1), quantiles=(quantiles, 2), max_categories=(max_categories, 1))
    if len(frame) == 0:
        raise InvalidInput(
            "the training data has no rows",
            hint="profile the data the model was trained on; it needs at least one row",
        )
    if not frame.columns.is_unique:
        duplicated = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        raise InvalidInput(
            f"the training data has duplicate columns: {', '.join(duplicated)}",
            hint="give every column a distinct name",
        )
    rows = len(frame)
    probabilities = np.linspace(0.0, 1.0, quantiles)
    features: dict[str, FeatureProfile] = {}
    for column, dtype in _column_types(frame, schema).items():
        name = str(column)
        if dtype in _NUMERIC_TYPES:
            values = _to_float(frame[column], dtype, name)
            features[name] = _numeric_profile(values, rows, dtype, bins, probabilities)
        else:
            features[name] = _categorical_profile(frame[column], rows, dtype, max_categories)
    logger.debug("profiled %d rows x %d features", rows, len(features))
    return Profile(rows=rows, features=features)


def _check_at_least(**limits: tuple[int, int]) -> None:
    for name, (value, least) in limits.items():
        if value < least:
            raise InvalidInput(
                f"{name} must be at least {least}, got {value}",
                hint=f"pass {name}={least} or more",
            )


def _column_types(frame: pd.DataFrame, schema: Mapping[str, str] | None) -> dict[Hashable, str]:
    if schema is None:
        names = [str(c) for c in frame.columns]
        if len(set(names)) != len(names):
            raise InvalidInput(
                "the training data has columns whose names are equal as text",
                hint="give every column a distinct string name",
            )
        return {c: _infer_type(frame[c].dtype) for c in frame.columns}
    known = _NUMERIC_TYPES | _CATEGORICAL_TYPES
    unknown = [f"{c}: {t!r}" for c, t in schema.items() if t not in known]
    if unknown:
        raise InvalidInput(
            f"the schema has unknown types ({', '.join(unknown)})",
            hint=f"use one of {', '.join(sorted(known))}",
        )
    absent = [c for c in schema if c not in frame.columns]
    if absent:
        raise InvalidInput(
            f"columns missing from the training data: {', '.join(absent)}",
            hint="train on data with every column of the manifest schema, or fix the schema",
        )
    return {column: kind for column, kind in schema.items()}


def _infer_type(dtype: Any) -> str:
    # Categorical first: a category dtype of bools or ints is still categorical.
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    return "str"


def _to_float(values: _Values, dtype: str, column: str = "values") -> _Floats:
    """Values as float64 (datetimes as epoch seconds), missing ones as NaN."""
    if not isinstance(values, pd.Series):
        array = np.asarray(values)
        if array.dtype.kind in "fiub" and dtype != "datetime":
            return array.astype(np.float64, copy=False)
        values = pd.Series(array.ravel())
    series = values
    try:
        if dtype == "datetime":
            if not pd.api.types.is_datetime64_any_dtype(series.dtype):
                series = pd.to_datetime(series, utc=True)
            if isinstance(series.dtype, pd.DatetimeTZDtype):
                series = series.dt.tz_convert(None)
            stamps = series.to_numpy()
            epoch = np.array(0).astype(stamps.dtype)
            # NaT minus anything is NaT, and NaT / 1 second is NaN.
            return np.asarray((stamps - epoch) / np.timedelta64(1, "s"), dtype=np.float64)
        dtype_of = series.dtype
        if not (pd.api.types.is_numeric_dtype(dtype_of) or pd.api.types.is_bool_dtype(dtype_of)):
            series = pd.to_numeric(series, errors="raise")
        return np.asarray(series.to_numpy(dtype=np.float64, na_value=np.nan))
    except (ValueError, TypeError, OverflowError) as exc:
        raise InvalidInput(
            f"column {column!r} is declared {dtype} but holds other values: {exc}",
            hint="fix the data, or declare the column with another type in the schema",
        ) from exc


def _sorted_quantiles(ordered: _Floats, probabilities: _Floats) -> _Floats:
    """``np.quantile(method="linear")`` of sorted data, bit for bit, without re-sorting."""
    last = ordered.size - 1
    virtual = last * probabilities
    below = np.floor(virtual)
    gamma = virtual - below
    lo = np.minimum(below.astype(np.intp), last)
    hi = np.minimum(lo + 1, last)
    a, b = ordered[lo], ordered[hi]
    diff: _Floats = b - a  # numpy's stubs type float array - float array as Any
    # Same two-sided interpolation as numpy's _lerp, so results match it exactly.
    return np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)


def _numeric_profile(
    values: _Floats, rows: int, dtype: str, bins: int, probabilities: _Floats
) -> NumericProfile:
    finite = values[np.isfinite(values)]
    count = int(finite.size)
    missing = rows - count
    if count == 0:
        return NumericProfile(
            dtype=dtype, count=0, missing=missing, missing_share=missing / rows, mean=None,
            std=None, min=None, max=None, quantiles=None, edges=None, counts=None,
        )  # fmt: skip
    # One sort serves min, max, every quantile and the bin counts.
    ordered = np.sort(finite)
    edges = np.unique(_sorted_quantiles(ordered, np.linspace(0.0, 1.0, bins + 1)[1:-1]))
    at_or_below = np.searchsorted(ordered, edges, side="right")
    counts = np.diff(np.concatenate(([0], at_or_below, [count])))
    return NumericProfile(
        dtype=dtype,
        count=count,
        missing=missing,
        missing_share=missing / rows,
        mean=_finite_or_none(finite.mean()),
        std=_finite_or_none(finite.std(ddof=1)) if count > 1 else None,
        min=float(ordered[0]),
        max=float(ordered[-1]),
        quantiles=tuple(_sorted_quantiles(ordered, probabilities).tolist()),
        edges=tuple(edges.tolist()),
        counts=tuple(int(c) for c in counts),
    )


def _finite_or_none(value: Any) -> float | None:
    number = float(value)
    return number if np.isfinite(number) else None


def _string_counts(values: pd.Series[Any]) -> pd.Series[Any]:
    """Non-missing values counted per ``str(value)`` label."""
    counts = values.value_counts(dropna=True, sort=False)
    if isinstance(values.dtype, pd.CategoricalDtype):  # unused categories come with 0
        counts = counts.iloc[np.flatnonzero(counts.to_numpy() > 0)]
    source = counts.index.dtype
    counts.index = counts.index.astype(str)
    # Only mixed types (1 and "1" in one object column) can share a label; checking
    # uniqueness costs a hash of every label, so skip it when collisions cannot happen.
    distinct = isinstance(source, pd.StringDtype) or pd.api.types.is_numeric_dtype(source)
    if not distinct and not counts.index.is_unique:
        counts = counts.groupby(level=0, sort=False).sum()
    return counts


def _categorical_profile(
    values: pd.Series[Any], rows: int, dtype: str, max_categories: int
) -> CategoricalProfile:
    counts = _string_counts(values)
    n = counts.to_numpy(dtype=np.int64)
    labels = counts.index
    count = int(n.sum())
    if n.size > max_categories:
        # Only values that can make the cut are sorted; plain numpy masks, because
        # boolean indexing of a Series would hash its (possibly huge) index.
        cut = n.size - max_categories
        keep = np.flatnonzero(n >= np.partition(n, cut)[cut])
        n, labels = n[keep], labels[keep]
    label_rank = np.empty(n.size, dtype=np.intp)
    label_rank[labels.argsort()] = np.arange(n.size)
    top = np.lexsort((label_rank, -n))[:max_categories]  # most frequent, then by label
    frequencies = {str(k): int(v) for k, v in zip(labels[top], n[top], strict=True)}
    missing = rows - count
    return CategoricalProfile(
        dtype=dtype,
        count=count,
        missing=missing,
        missing_share=missing / rows,
        frequencies=frequencies,
        other=count - sum(frequencies.values()),
    )


def _feature_to_dict(feature: FeatureProfile) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": feature.kind}
    for f in fields(feature):
        value = getattr(feature, f.name)
        if isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, dict):
            value = dict(value)  # a copy, so callers cannot mutate the frozen profile
        out[f.name] = value
    return out


def _feature_from_dict(raw: Mapping[str, Any]) -> FeatureProfile:
    kind = raw["kind"]
    dtype, count, missing = str(raw["dtype"]), int(raw["count"]), int(raw["missing"])
    missing_share = float(raw["missing_share"])
    if kind == "numeric":
        return NumericProfile(
            dtype=dtype,
            count=count,
            missing=missing,
            missing_share=missing_share,
            mean=_optional(float, raw["mean"]),
            std=_optional(float, raw["std"]),
            min=_optional(float, raw["min"]),
            max=_optional(float, raw["max"]),
            quantiles=_optional_tuple(float, raw["quantiles"]),
            edges=_optional_tuple(float, raw["edges"]),
            counts=_optional_tuple(int, raw["counts"]),
        )
    if kind == "categorical":
        return CategoricalProfile(
            dtype=dtype,
            count=count,
            missing=missing,
            missing_share=missing_share,
            frequencies={str(k): int(v) for k, v in raw["frequencies"].items()},
            other=int(raw["other"]),
        )
    raise InvalidInput(
        f"the profile has a feature of unknown kind {kind!r}",
        hint="expected 'numeric' or 'categorical'; rebuild the profile",
    )


def _optional(convert: type[float] | type[int], value: Any) -> Any:
    return None if value is None else convert(value)


def _optional_tuple(convert: type[float] | type[int], values: Any) -> Any:
    return None if values is None else tuple(convert(v) for v in values)
