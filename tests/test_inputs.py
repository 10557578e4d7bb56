"""A client mistake is never a model error: one set of rules online, in batch and at the gate."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from lightkeeper.batch.checks import check_chunk
from lightkeeper.errors import InvalidInput, ManifestError
from lightkeeper.inputs import RowValidator
from lightkeeper.manifest import InputField, parse_manifest

NESTED: Any = 1.0
for _ in range(50):
    NESTED = [NESTED]

# values no model can take, whatever the field's type
UNUSABLE: list[Any] = [None, "x", [1.0], {"a": 1.0}, NESTED, math.inf, -math.inf, math.nan]
HUGE = 1e308  # finite, but float32 (trees read float32) overflows


def fields(on_invalid: str, impute: Any = None) -> list[InputField]:
    extra = {"on_invalid": on_invalid} if on_invalid == "flag" else {}
    if impute is not None:
        extra["impute"] = impute
    return [
        InputField(name="income", type="float", min=0, max=500, **extra),
        InputField(name="age", type="int", min=18, max=100, **extra),
        InputField(name="region", type="category", categories=["north", "south"], **extra),
    ]


ROW = {"income": 40.0, "age": 35, "region": "south"}


def validator(on_invalid: str, impute: Any = None) -> RowValidator:
    validator = RowValidator(None, ["income", "age", "region"])
    validator.fields = fields(on_invalid, impute)
    validator.categories = {"region": {"north", "south"}}
    validator.extra_features = []
    return validator


@pytest.mark.parametrize("on_invalid", ["reject", "flag"])
@pytest.mark.parametrize("field", ["income", "age", "region"])
@pytest.mark.parametrize("value", [*UNUSABLE, HUGE, True], ids=repr)
def test_a_value_the_model_cannot_take_is_a_client_error_under_either_policy(
    on_invalid: str, field: str, value: Any
) -> None:
    if field == "region" and (value == "x" or value == HUGE):
        return  # an unknown category the model can take: the next test's case
    row = {**ROW, field: value}
    with pytest.raises(InvalidInput, match=rf"rows\[0\]\.{field}: ") as caught:
        validator(on_invalid).check([row])
    assert "LK-" not in caught.value.message  # the field and the problem, not a code
    if on_invalid == "flag":
        assert "set impute" in caught.value.hint


@pytest.mark.parametrize("value", UNUSABLE, ids=repr)
def test_under_flag_with_impute_the_model_gets_the_imputed_value(value: Any) -> None:
    rows = [{**ROW, "income": value, "age": value}]
    flags = validator("flag", impute="missing").check(rows)
    assert rows[0]["income"] is None and rows[0]["age"] is None
    assert flags is not None and all("imputed None" in f for f in flags[0])
    constant = RowValidator(None, None)
    constant.fields = [InputField(name="age", type="int", min=18, on_invalid="flag", impute=40)]
    flagged = constant.check(rows := [{**ROW, "age": value}])
    assert rows[0]["age"] == 40 and flagged is not None and "imputed 40" in flagged[0][0]


def test_under_flag_a_value_the_model_can_take_is_kept_and_flagged() -> None:
    rows = [{"income": 900.0, "age": 12, "region": "east"}]
    flags = validator("flag").check(rows)
    assert rows == [{"income": 900.0, "age": 12, "region": "east"}]
    assert flags == [
        [
            "income: 900.0 is above the maximum 500",
            "age: 12 is below the minimum 18",
            "region: 'east' is not a known category",
        ]
    ]
    with pytest.raises(InvalidInput, match=r"rows\[0\]\.income: 900.0 is above the maximum"):
        validator("reject").check(rows)


def test_undeclared_model_features_must_be_single_values() -> None:
    check = RowValidator(None, ["a"])
    check.check([{"a": "text"}, {"a": 1.5}, {"a": None}])
    for value in ([1], {"b": 2}, math.inf, HUGE):
        with pytest.raises(InvalidInput, match=r"rows\[0\]\.a: "):
            check.check([{"a": value}])


def test_a_long_value_is_cut_short_in_the_message() -> None:
    with pytest.raises(InvalidInput) as caught:
        validator("reject").check([{**ROW, "income": "x" * 100_000}])
    assert len(caught.value.message) < 120


@pytest.mark.parametrize("on_invalid", ["reject", "flag"])
def test_batch_rejects_what_the_model_cannot_take_under_either_policy(on_invalid: str) -> None:
    frame = pd.DataFrame(
        {
            "income": [40.0, "x", None, math.inf, HUGE, [1.0], 900.0],
            "age": [35] * 7,
            "region": ["south"] * 7,
        }
    )
    checked = check_chunk(frame, fields(on_invalid), [], [])
    kept = 2 if on_invalid == "flag" else 1  # 900.0 is only out of range
    assert len(checked.good) == kept
    assert list(checked.reasons) == [
        "income: is not a number",
        "income: is required",
        "income: is not a finite number",
        "income: is beyond the largest number a model takes (3.4e38)",
        "income: is not a number",
        *([] if on_invalid == "flag" else ["income: is above the maximum 500"]),
    ]
    assert pd.api.types.is_float_dtype(checked.good["income"])


def test_batch_imputes_under_flag_when_the_manifest_says_so() -> None:
    frame = pd.DataFrame(
        {
            "income": [40.0, "x", None, math.inf, 900.0],
            "age": [35, 36, 37, 38, 39],
            "region": ["south", "north", "south", ["north"], "east"],
        }
    )
    checked = check_chunk(frame, fields("flag", impute="missing"), [], [])
    assert len(checked.good) == 5 and len(checked.rejected) == 0
    assert checked.good["income"].tolist()[:1] == [40.0]
    assert np.isnan(checked.good["income"].tolist()[1:4]).all()
    assert checked.good["income"].tolist()[4] == 900.0
    assert checked.good["region"].tolist()[3] is None
    assert checked.flags is not None
    assert checked.flags[1] == "income: is not a number; imputed"
    assert checked.flags[4] == ("income: is above the maximum 500; region: is not a known category")


MANIFEST = """\
name: m
kind: online
entrypoints: {{train: train:train}}
input_schema:
  - name: wind
    type: float
    min: 0
    max: 15
{extra}
target: {{name: y}}
"""


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        ("    impute: 3.0", "impute applies to on_invalid: flag"),
        ("    on_invalid: flag\n    impute: windy", "impute: 'windy' is not a number"),
        ("    on_invalid: flag\n    impute: 99", "impute: 99 is above the maximum 15"),
    ],
)
def test_the_manifest_checks_impute(extra: str, match: str) -> None:
    with pytest.raises(ManifestError, match=match):
        parse_manifest(MANIFEST.format(extra=extra))


def test_impute_missing_and_a_valid_value_are_accepted() -> None:
    for impute in ("missing", "3.5"):
        manifest = parse_manifest(
            MANIFEST.format(extra=f"    on_invalid: flag\n    impute: {impute}")
        )
        assert manifest.input_schema[0].impute == (impute if impute == "missing" else 3.5)


def test_the_gate_probes_what_flag_lets_reach_the_model() -> None:
    from lightkeeper.gate.contract import UNKNOWN, probe_rows

    manifest = parse_manifest(
        MANIFEST.format(extra="    on_invalid: flag\n    impute: missing").replace(
            "target:",
            "  - name: sky\n    type: category\n    categories: [sun, rain]\n"
            "    on_invalid: flag\ntarget:",
        )
    )
    gold = pd.DataFrame({"wind": [3.0, 4.0], "sky": ["sun", "rain"]})
    probes = probe_rows(manifest, gold)
    winds = probes["wind"].tolist()
    assert -15.0 in winds and 30.0 in winds  # beyond min and max, kept under flag
    assert any(math.isnan(w) for w in winds)  # the imputed missing value
    assert UNKNOWN in probes["sky"].tolist()
    strict = parse_manifest(MANIFEST.format(extra=""))
    assert len(probe_rows(strict, gold[["wind"]])) == 4  # typical row + min, max, middle


def test_the_gate_answers_every_client_mistake_per_field() -> None:
    from lightkeeper.gate.contract import MISTAKES, client_mistakes

    manifest = parse_manifest(
        MANIFEST.format(extra="    on_invalid: flag\n    impute: missing").replace(
            "target:",
            "  - name: sky\n    type: category\n    categories: [sun, rain]\ntarget:",
        )
    )
    gold = pd.DataFrame({"wind": [np.float64(3.0)], "sky": ["sun"]})
    outcomes = {(o["field"], o["value"]): o["outcome"] for o in client_mistakes(manifest, gold)}
    assert len(outcomes) == 2 * len(MISTAKES)
    assert set(outcomes.values()) <= {"refused", "imputed", "kept"}
    assert outcomes[("wind", "text")] == "imputed" and outcomes[("wind", "1e308")] == "imputed"
    assert outcomes[("sky", "null")] == "refused" and outcomes[("sky", "nested")] == "refused"
    assert outcomes[("sky", "text")] == "refused"  # "not-a-value" is no category: reject


def test_categories_and_text_reach_the_model_as_declared() -> None:
    check = RowValidator(None, None)
    check.fields = [
        InputField(name="code", type="category", categories=["1", "2"]),
        InputField(name="level", type="category", categories=[1, 2]),
        InputField(name="note", type="str"),
    ]
    check.categories = {"code": {"1", "2"}, "level": {"1", "2"}}
    check.labels = {"code": {"1": "1", "2": "2"}, "level": {"1": 1, "2": 2}}
    check.text = ["note"]
    rows = [{"code": 1, "level": "2", "note": 7}]
    check.check(rows)
    assert rows == [{"code": "1", "level": 2, "note": "7"}]
    frame = pd.DataFrame({"code": [1, 2], "level": ["1", "2"], "note": [7, 8]})
    checked = check_chunk(frame, check.fields, [], [])
    assert checked.good["code"].tolist() == ["1", "2"]
    assert checked.good["level"].tolist() == [1, 2]
    assert checked.good["note"].tolist() == ["7", "8"]


def test_batch_refuses_what_online_refuses_and_never_raises() -> None:
    from decimal import Decimal

    fields_ = [
        InputField(name="flag", type="bool", required=False),
        InputField(name="day", type="datetime", required=False),
        InputField(name="x", type="float", required=False),
    ]
    frame = pd.DataFrame(
        {
            "flag": [True, 1, 0, None, None, None],
            "day": ["2024-01-02", None, None, None, None, None],
            "x": [1.0, None, None, Decimal("NaN"), 10**400, True],
        }
    )
    checked = check_chunk(frame, fields_, [], [])
    assert len(checked.good) == 2  # a decimal NaN is a missing value, as pandas reads it
    assert list(checked.reasons) == [
        "flag: is not true or false",
        "flag: is not true or false",
        "x: is not a number",
        "x: is not a number",
    ]
    numbers = pd.DataFrame({"day": [20240102]})
    dated = check_chunk(numbers, [InputField(name="day", type="datetime")], [], [])
    assert list(dated.reasons) == ["day: is not a date/time"]
