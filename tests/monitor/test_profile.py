"""Reference profiles: statistics match numpy, bins and categories, JSON round trip."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from lightkeeper.errors import InvalidInput
from lightkeeper.profile import (
    OTHER_LABEL,
    PROFILE_VERSION,
    CategoricalProfile,
    NumericProfile,
    Profile,
    build_profile,
)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240601)


@pytest.fixture
def frame(rng: np.random.Generator) -> pd.DataFrame:
    n = 5_000
    return pd.DataFrame(
        {
            "x": rng.normal(10.0, 3.0, size=n),
            "k": rng.integers(0, 1_000, size=n),
            "city": rng.choice(["paris", "lyon", "nice", "brest"], size=n, p=[0.4, 0.3, 0.2, 0.1]),
            "flag": rng.random(n) < 0.25,
            "seen": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 86_400 * 365, size=n), unit="s"),
        }
    )


def _numeric(profile: Profile, name: str) -> NumericProfile:
    feature = profile.features[name]
    assert isinstance(feature, NumericProfile)
    return feature


def _categorical(profile: Profile, name: str) -> CategoricalProfile:
    feature = profile.features[name]
    assert isinstance(feature, CategoricalProfile)
    return feature


def _reject_constant(name: str) -> None:
    raise AssertionError(f"JSON holds the non-standard constant {name}")


def test_numeric_statistics_equal_numpy(frame: pd.DataFrame) -> None:
    x = frame["x"].to_numpy()
    feature = _numeric(build_profile(frame, quantiles=101), "x")
    assert feature.dtype == "float"
    assert (feature.count, feature.missing, feature.missing_share) == (len(x), 0, 0.0)
    assert feature.mean == float(np.mean(x))
    assert feature.std == float(np.std(x, ddof=1))
    assert (feature.min, feature.max) == (float(x.min()), float(x.max()))
    expected = np.quantile(x, np.linspace(0, 1, 101), method="linear")
    np.testing.assert_array_equal(np.asarray(feature.quantiles), expected)
    np.testing.assert_array_equal(feature.probabilities, np.linspace(0, 1, 101))


def test_default_sketch_has_1001_quantiles(frame: pd.DataFrame) -> None:
    feature = _numeric(build_profile(frame), "k")
    assert feature.dtype == "int"
    assert feature.quantiles is not None
    assert len(feature.quantiles) == 1001
    expected = np.quantile(frame["k"].to_numpy(dtype=float), np.linspace(0, 1, 1001))
    np.testing.assert_array_equal(np.asarray(feature.quantiles), expected)


def test_bins_are_equal_frequency_and_match_bin_counts(frame: pd.DataFrame) -> None:
    feature = _numeric(build_profile(frame, bins=10), "x")
    assert feature.edges is not None
    assert feature.counts is not None
    assert len(feature.edges) == 9
    assert len(feature.counts) == 10
    assert all(a < b for a, b in zip(feature.edges, feature.edges[1:], strict=False))
    assert sum(feature.counts) == feature.count
    assert all(abs(c - 500) <= 1 for c in feature.counts)
    recount = feature.bin_counts(frame["x"].to_numpy())
    assert recount.tolist() == list(feature.counts)
    assert feature.bin_counts(frame["x"]).tolist() == list(feature.counts)


def test_bins_are_right_closed_and_open_ended() -> None:
    feature = _numeric(build_profile(pd.DataFrame({"v": [1.0, 2.0, 3.0, 4.0]}), bins=2), "v")
    assert feature.edges == (2.5,)
    assert feature.counts == (2, 2)
    counts = feature.bin_counts(np.array([-1e9, 2.5, 2.5000001, 1e9, np.nan, np.inf]))
    assert counts.tolist() == [2, 2]


def test_low_cardinality_column_gets_fewer_bins(rng: np.random.Generator) -> None:
    frame = pd.DataFrame({"level": rng.integers(0, 3, size=3_000)})
    feature = _numeric(build_profile(frame, bins=20), "level")
    assert feature.edges == (0.0, 1.0, 2.0)
    assert feature.counts is not None
    assert feature.counts[-1] == 0
    assert list(feature.counts[:3]) == [int((frame["level"] == v).sum()) for v in range(3)]


def test_constant_column() -> None:
    feature = _numeric(build_profile(pd.DataFrame({"c": [7.0] * 50})), "c")
    assert (feature.mean, feature.std, feature.min, feature.max) == (7.0, 0.0, 7.0, 7.0)
    assert feature.edges == (7.0,)
    assert feature.counts == (50, 0)
    assert set(feature.quantiles or ()) == {7.0}
    assert feature.bin_counts(np.array([6.0, 7.0, 8.0])).tolist() == [2, 1]
    assert feature.cdf(np.array([6.9, 7.0, 7.1])).tolist() == [0.0, 1.0, 1.0]


def test_single_value_has_no_std() -> None:
    feature = _numeric(build_profile(pd.DataFrame({"v": [3.5]})), "v")
    assert feature.std is None
    assert feature.mean == 3.5


def test_missing_values_are_counted() -> None:
    frame = pd.DataFrame(
        {
            "v": [1.0, np.nan, 3.0, np.inf, None, 6.0],
            "n": pd.array([1, None, 3, 4, None, 6], dtype="Int64"),
            "s": ["a", None, "b", np.nan, "a", "a"],
        }
    )
    profile = build_profile(frame)
    v = _numeric(profile, "v")
    assert (v.count, v.missing, v.missing_share) == (3, 3, 0.5)
    assert v.mean == pytest.approx(10.0 / 3)
    assert v.max == 6.0
    n = _numeric(profile, "n")
    assert (n.dtype, n.count, n.missing) == ("int", 4, 2)
    s = _categorical(profile, "s")
    assert (s.count, s.missing, s.missing_share) == (4, 2, 2 / 6)
    assert s.frequencies == {"a": 3, "b": 1}
    assert v.bin_counts(np.array([np.nan, -np.inf, 2.0])).sum() == 1


def test_all_missing_columns_profile_without_statistics() -> None:
    frame = pd.DataFrame({"v": [np.nan, np.nan], "s": pd.Series([None, None], dtype=object)})
    profile = build_profile(frame, schema={"v": "float", "s": "str"})
    v = _numeric(profile, "v")
    assert (v.count, v.missing, v.missing_share) == (0, 2, 1.0)
    assert (v.mean, v.std, v.min, v.max) == (None, None, None, None)
    assert (v.quantiles, v.edges, v.counts) == (None, None, None)
    assert v.bin_counts(np.array([1.0, np.nan])).tolist() == [1]
    with pytest.raises(InvalidInput, match="no non-missing values"):
        v.cdf(np.array([0.0]))
    s = _categorical(profile, "s")
    assert (s.count, s.missing, s.frequencies, s.other) == (0, 2, {}, 0)


def test_categorical_frequencies_and_other_bucket() -> None:
    values = ["a"] * 5 + ["b"] * 4 + ["c"] * 3 + ["d"] * 3 + ["e"] * 1
    feature = _categorical(build_profile(pd.DataFrame({"g": values}), max_categories=3), "g")
    assert feature.dtype == "str"
    assert feature.frequencies == {"a": 5, "b": 4, "c": 3}
    assert list(feature.frequencies) == ["a", "b", "c"]
    assert feature.other == 4
    assert feature.count == 16
    assert feature.labels == ["a", "b", "c", OTHER_LABEL]
    assert feature.counts == (5, 4, 3, 4)
    labels, counts = feature.category_counts(values)
    assert labels == feature.labels
    assert counts.tolist() == list(feature.counts)


def test_ties_at_the_cut_are_broken_by_label() -> None:
    values = ["b", "b", "a", "a", "c", "c", "d", "d", "d"]
    feature = _categorical(build_profile(pd.DataFrame({"g": values}), max_categories=2), "g")
    assert list(feature.frequencies.items()) == [("d", 3), ("a", 2)]
    assert feature.other == 4


def test_mixed_object_values_share_string_labels() -> None:
    column = pd.Series([1, "1", 2.5, None, "x"], dtype=object)
    feature = _categorical(build_profile(pd.DataFrame({"m": column})), "m")
    assert feature.frequencies == {"1": 2, "2.5": 1, "x": 1}
    assert feature.category_counts(column)[1].tolist() == [2, 1, 1, 0]


def test_unseen_categories_count_as_other() -> None:
    feature = _categorical(build_profile(pd.DataFrame({"g": ["a", "b", "a"]})), "g")
    labels, counts = feature.category_counts(pd.Series(["a", "z", "y", None, "b", "z"]))
    assert labels == ["a", "b", OTHER_LABEL]
    assert counts.tolist() == [1, 1, 3]
    assert counts.dtype == np.int64


def test_bool_column_is_categorical(frame: pd.DataFrame) -> None:
    feature = _categorical(build_profile(frame), "flag")
    assert feature.dtype == "bool"
    flags = frame["flag"]
    assert feature.frequencies == {"False": int((~flags).sum()), "True": int(flags.sum())}
    labels, counts = feature.category_counts(np.array([True, True, False]))
    assert dict(zip(labels, counts.tolist(), strict=True)) == {
        "False": 1,
        "True": 2,
        OTHER_LABEL: 0,
    }


def test_category_dtype_ignores_unused_categories() -> None:
    column = pd.Categorical(["x", "y", "x"], categories=["x", "y", "never"])
    feature = _categorical(build_profile(pd.DataFrame({"c": column})), "c")
    assert feature.dtype == "category"
    assert feature.frequencies == {"x": 2, "y": 1}


def test_datetime_column_is_profiled_as_epoch_seconds(frame: pd.DataFrame) -> None:
    seen = frame["seen"].copy()
    seen.iloc[:10] = pd.NaT
    feature = _numeric(build_profile(frame.assign(seen=seen)), "seen")
    assert feature.dtype == "datetime"
    assert (feature.count, feature.missing) == (len(seen) - 10, 10)
    seconds = (seen.dropna() - pd.Timestamp("1970-01-01")).dt.total_seconds().to_numpy()
    assert feature.min == seconds.min()
    assert feature.max == seconds.max()
    assert feature.mean == pytest.approx(seconds.mean())
    assert feature.counts is not None
    assert feature.bin_counts(seen).tolist() == list(feature.counts)
    assert feature.cdf(pd.Series([pd.Timestamp("2023-06-01")])).tolist() == [0.0]


def test_timezone_aware_datetimes_are_utc() -> None:
    stamps = pd.Series(pd.to_datetime(["2024-01-01 01:00"]).tz_localize("Europe/Paris"))
    feature = _numeric(build_profile(pd.DataFrame({"t": stamps})), "t")
    assert feature.min == pd.Timestamp("2024-01-01 00:00", tz="UTC").timestamp()


def test_schema_selects_columns_and_types(frame: pd.DataFrame) -> None:
    profile = build_profile(frame, schema={"k": "category", "x": "float"})
    assert list(profile.features) == ["k", "x"]
    assert _categorical(profile, "k").dtype == "category"
    assert all(label.isdigit() for label in _categorical(profile, "k").frequencies)
    assert _numeric(profile, "x").count == len(frame)


def test_schema_parses_numbers_and_dates_held_as_text() -> None:
    frame = pd.DataFrame({"v": ["1.5", "2.5", None], "t": ["2024-01-01", "2024-01-02", None]})
    profile = build_profile(frame, schema={"v": "float", "t": "datetime"})
    assert _numeric(profile, "v").mean == 2.0
    assert _numeric(profile, "t").min == pd.Timestamp("2024-01-01", tz="UTC").timestamp()


def test_schema_column_missing_from_frame_is_named(frame: pd.DataFrame) -> None:
    with pytest.raises(InvalidInput, match="missing from the training data: income, age"):
        build_profile(frame, schema={"x": "float", "income": "float", "age": "int"})


def test_schema_with_unknown_type_is_rejected(frame: pd.DataFrame) -> None:
    with pytest.raises(InvalidInput, match="unknown types \\(x: 'decimal'\\)"):
        build_profile(frame, schema={"x": "decimal"})


def test_text_declared_numeric_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="column 'v' is declared float"):
        build_profile(pd.DataFrame({"v": ["1", "two"]}), schema={"v": "float"})


def test_empty_frame_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="has no rows") as caught:
        build_profile(pd.DataFrame({"x": pd.Series([], dtype=float)}))
    assert caught.value.hint


@pytest.mark.parametrize(
    ("argument", "value"), [("bins", 0), ("quantiles", 1), ("max_categories", 0)]
)
def test_too_small_arguments_are_rejected(frame: pd.DataFrame, argument: str, value: int) -> None:
    with pytest.raises(InvalidInput, match=f"{argument} must be at least"):
        build_profile(frame, **{argument: value})  # type: ignore[arg-type]


def test_json_round_trip_is_exact(frame: pd.DataFrame) -> None:
    frame = frame.assign(empty=np.nan, one=[1.0] + [np.nan] * (len(frame) - 1))
    profile = build_profile(frame)
    text = profile.to_json()
    again = Profile.from_json(text)
    assert again == profile
    assert again.to_json() == text
    assert Profile.from_dict(json.loads(json.dumps(profile.to_dict()))) == profile
    x, x_again = _numeric(profile, "x"), _numeric(again, "x")
    probe = np.linspace(0.0, 20.0, 1_001)
    assert x_again.bin_counts(probe).tolist() == x.bin_counts(probe).tolist()
    np.testing.assert_array_equal(x_again.cdf(probe), x.cdf(probe))
    city = frame["city"]
    assert _categorical(again, "city").category_counts(city)[1].tolist() == list(
        _categorical(profile, "city").counts
    )


def test_json_never_holds_nan(frame: pd.DataFrame) -> None:
    frame = frame.assign(empty=np.nan, one=[1.0] + [np.nan] * (len(frame) - 1), inf=np.inf)
    data = json.loads(build_profile(frame).to_json(), parse_constant=_reject_constant)
    assert data["version"] == PROFILE_VERSION
    assert data["features"]["empty"]["mean"] is None
    assert data["features"]["one"]["std"] is None
    assert data["features"]["inf"]["missing"] == len(frame)


def test_to_dict_layout(frame: pd.DataFrame) -> None:
    data = build_profile(frame[["x", "city"]], bins=4, quantiles=5).to_dict()
    assert data["rows"] == len(frame)
    assert set(data["features"]["x"]) == {
        "kind", "dtype", "count", "missing", "missing_share", "mean", "std", "min", "max",
        "quantiles", "edges", "counts",
    }  # fmt: skip
    assert data["features"]["x"]["kind"] == "numeric"
    assert len(data["features"]["x"]["quantiles"]) == 5
    assert len(data["features"]["x"]["edges"]) == 3
    assert data["features"]["city"]["kind"] == "categorical"
    assert isinstance(data["features"]["x"]["counts"], list)


def test_unknown_version_is_rejected(frame: pd.DataFrame) -> None:
    data = build_profile(frame).to_dict() | {"version": 99}
    with pytest.raises(InvalidInput, match="profile version 99 is not supported"):
        Profile.from_dict(data)


def test_malformed_profiles_are_rejected(frame: pd.DataFrame) -> None:
    data = build_profile(frame[["x"]]).to_dict()
    data["features"]["x"]["kind"] = "histogram"
    with pytest.raises(InvalidInput, match="unknown kind 'histogram'"):
        Profile.from_dict(data)
    del data["features"]["x"]["kind"]
    with pytest.raises(InvalidInput, match="profile is malformed"):
        Profile.from_dict(data)
    with pytest.raises(InvalidInput, match="not valid JSON"):
        Profile.from_json("{")
    with pytest.raises(InvalidInput, match="is a list, not an object"):
        Profile.from_json("[]")


def test_cdf_from_sketch_is_close_to_exact_empirical_cdf(rng: np.random.Generator) -> None:
    sample = rng.normal(size=100_000)
    feature = _numeric(build_profile(pd.DataFrame({"z": sample})), "z")
    ordered = np.sort(sample)
    points = np.concatenate([np.linspace(-5.0, 5.0, 2_001), sample[:2_000]])
    exact = np.searchsorted(ordered, points, side="right") / ordered.size
    assert np.max(np.abs(feature.cdf(points) - exact)) < 0.002


def test_cdf_outside_range_and_missing(frame: pd.DataFrame) -> None:
    feature = _numeric(build_profile(frame), "x")
    out = feature.cdf(np.array([-np.inf, -1e9, 1e9, np.inf, np.nan]))
    assert out[:4].tolist() == [0.0, 0.0, 1.0, 1.0]
    assert np.isnan(out[4])
    assert feature.cdf(np.array([feature.max]))[0] == 1.0
