"""The one name rule and the range of ids and version numbers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from lightkeeper import Lightkeeper
from lightkeeper.errors import InvalidInput, ManifestError
from lightkeeper.manifest import parse_manifest
from lightkeeper.names import MAX_ID, NAME_RULE, check_name, check_version, is_name
from lightkeeper.testing import ADMIN


@pytest.mark.parametrize("name", ["credit-risk", "Churn_v2", "2026-q4", "a", "x" * 100, "A-_-9"])
def test_names_that_follow_the_rule(name: str) -> None:
    assert is_name(name) and check_name(name, "model") == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "x" * 101,
        "-leading-dash",
        "_hidden",
        ".dot",
        "with space",
        "crédit",
        "a/b",
        "a.b",
        "semi;colon",
        "new\nline",
        "nul\x00",
        "\u0663",
    ],
)
def test_names_that_break_the_rule_are_refused_naming_the_name_and_the_rule(name: str) -> None:
    assert not is_name(name)
    with pytest.raises(InvalidInput, match=r"^gold dataset name .* is not a valid name \(") as e:
        check_name(name, "gold dataset")
    assert NAME_RULE in e.value.hint
    assert repr(name[:60]) in e.value.message


def test_a_long_name_is_shortened_in_the_message() -> None:
    with pytest.raises(InvalidInput, match=r"'x{60}'\.\.\. \(5000 characters\) is not"):
        check_name("x" * 5000, "deployment")


@pytest.mark.parametrize("version", [1, "1", "2147483647", "latest", "champion", "v2"])
def test_versions_in_range_and_aliases_pass(version: int | str) -> None:
    assert check_version(version) == version


@pytest.mark.parametrize("version", [0, "0", "-1", str(MAX_ID + 1), str(2**64), "²", "\u0661"])
def test_version_numbers_out_of_range_are_refused(version: int | str) -> None:
    with pytest.raises(InvalidInput, match="is not a version number"):
        check_version(version)


def test_the_manifest_uses_the_same_rule_for_the_model_name() -> None:
    text = (
        "name: {}\nkind: online\nentrypoints:\n  train: t:train\n"
        "input_schema:\n  - {{name: x, type: int}}\n"
    )
    assert parse_manifest(text.format("Credit_Risk-2")).name == "Credit_Risk-2"
    with pytest.raises(ManifestError, match="at most 100 characters"):
        parse_manifest(text.format("x" * 101))


@pytest.mark.both_databases
def test_every_kind_of_name_is_checked_where_it_is_created(lk: Lightkeeper, project: Path) -> None:
    version = lk.training.train(project, by=ADMIN)
    with pytest.raises(InvalidInput, match=r"^deployment name 'a b' is not a valid name"):
        lk.releases.create("a b", model="credit-risk", kind="online", by=ADMIN)
    with pytest.raises(InvalidInput, match=r"^model name 'copy:1' is not a valid name"):
        lk.training.register_uri("copy:1", version.source, by=ADMIN)
    frame = pd.DataFrame({"income": [1.0], "age": [30], "region": ["north"], "defaulted": [1]})
    with pytest.raises(InvalidInput, match=r"^gold dataset name '\.\./up' is not a valid name"):
        lk.gold.add(
            "../up", frame, owner="o", label_column="defaulted", project_dir=project, by=ADMIN
        )
    assert lk.stores.deployments.all() == [] and lk.stores.gold.list() == []
