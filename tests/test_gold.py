"""Gold datasets: versioned by content, checked against the input schema, signed off."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from lightkeeper import GoldDatasetInvalid, GoldDatasetNotFound, Lightkeeper, PermissionDenied
from lightkeeper.testing import ANALYST, OWNER
from support import make_project


def rows(n: int = 6) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "income": [10.0 * (i + 1) for i in range(n)],
            "age": [20 + i for i in range(n)],
            "region": ["north", "south"] * (n // 2),
            "defaulted": [i % 2 for i in range(n)],
        }
    )


@pytest.mark.both_databases
def test_same_content_is_a_no_op_and_new_content_a_new_version(
    lk: Lightkeeper, project: Path, tmp_path: Path
) -> None:
    csv, parquet = tmp_path / "gold.csv", tmp_path / "gold.parquet"
    rows().to_csv(csv, index=False)
    rows().to_parquet(parquet, index=False)
    kwargs = {
        "owner": "risk-desk",
        "label_column": "defaulted",
        "project_dir": project,
        "by": OWNER,
    }
    first, created = lk.gold.add("credit-gold", csv, **kwargs)
    assert created and (first.version, first.rows) == (1, 6)
    assert Path(first.path).is_file() and first.path.endswith(".parquet")
    again, created = lk.gold.add("credit-gold", parquet, **kwargs)  # same rows, other format
    assert not created and again.version == 1
    changed = rows()
    changed.loc[0, "defaulted"] = 1
    second, created = lk.gold.add("credit-gold", changed, **kwargs)
    assert created and second.version == 2 and second.content_hash != first.content_hash
    assert [v.version for v in lk.stores.gold.versions("credit-gold")] == [2, 1]
    assert [g.version for g in lk.stores.gold.list()] == [2]
    [entry, *_] = lk.audit_entries(kind="gold.added")
    assert entry.subject == "gold:credit-gold/2" and entry.actor == "bea"


def test_owner_approves_and_a_data_scientist_cannot(lk: Lightkeeper, project: Path) -> None:
    gold, _ = lk.gold.add(
        "g", rows(), owner="risk-desk", label_column="defaulted", project_dir=project, by=ANALYST
    )
    assert not gold.approved
    with pytest.raises(PermissionDenied, match="ana acts as data-scientist"):
        lk.gold.approve("g", 1, by=ANALYST)
    approved = lk.gold.approve("g", 1, note="checked against Q3 ledger", by=OWNER)
    assert approved.approved and approved.approved_by == "bea"
    assert approved.approval_note == "checked against Q3 ledger"
    assert lk.stores.gold.latest_approved("g").version == 1
    with pytest.raises(GoldDatasetNotFound, match="has no version 5"):
        lk.gold.approve("g", 5, by=OWNER)
    with pytest.raises(GoldDatasetNotFound, match="no gold dataset named 'nope'"):
        lk.stores.gold.get("nope")


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda f: f.drop(columns=["age"]), r"missing input column\(s\): age"),
        (lambda f: f.assign(notes="x"), r"extra column\(s\) notes: remove them, or declare"),
        (lambda f: f.drop(columns=["defaulted"]), "missing label column 'defaulted'"),
        (
            lambda f: f.assign(income=["a lot"] * 6),
            "'income' should be float but has text such as 'a lot'",
        ),
        (lambda f: f.assign(age=[20.5] * 6), "'age' should be int but has 20.5"),
        (lambda f: f.assign(age=[10] * 6), "'age' has value.* below its min 18"),
        (
            lambda f: f.assign(region=["west"] * 6),
            "'region' has value.* outside its categories: 'west'",
        ),
        (lambda f: f.assign(defaulted=[None] * 6), "label column 'defaulted' has 6 missing"),
    ],
)
def test_bad_gold_files_name_every_bad_column(
    lk: Lightkeeper, project: Path, tmp_path: Path, change, match: str
) -> None:
    path = tmp_path / "bad.csv"
    change(rows()).to_csv(path, index=False)
    with pytest.raises(GoldDatasetInvalid, match=match):
        lk.gold.add("g", path, owner="o", label_column="defaulted", project_dir=project, by=OWNER)
    assert lk.stores.gold.list() == []
    assert not (lk.settings.artifact_root / "gold" / "g").exists() or not any(
        (lk.settings.artifact_root / "gold" / "g").iterdir()
    )


def test_unreadable_files_are_clear_errors(lk: Lightkeeper, project: Path, tmp_path: Path) -> None:
    kwargs = {"owner": "o", "label_column": "defaulted", "project_dir": project, "by": OWNER}
    with pytest.raises(GoldDatasetInvalid, match="no file at"):
        lk.gold.add("g", tmp_path / "absent.csv", **kwargs)
    (tmp_path / "gold.xlsx").write_text("x")
    with pytest.raises(GoldDatasetInvalid, match="neither CSV nor Parquet"):
        lk.gold.add("g", tmp_path / "gold.xlsx", **kwargs)
    (tmp_path / "broken.parquet").write_text("not parquet")
    with pytest.raises(GoldDatasetInvalid, match="cannot read"):
        lk.gold.add("g", tmp_path / "broken.parquet", **kwargs)


def test_schema_from_a_registered_model(lk: Lightkeeper, tmp_path: Path) -> None:
    project = make_project(tmp_path)
    lk.training.train(project, by=ANALYST)
    gold, created = lk.gold.add(
        "g", rows(), owner="o", label_column="defaulted", model="credit-risk", by=ANALYST
    )
    assert created and gold.rows == 6


def test_same_content_under_other_terms_is_refused(lk: Lightkeeper, project: Path) -> None:
    kwargs = {"label_column": "defaulted", "project_dir": project, "by": OWNER}
    lk.gold.add("g", rows(), owner="risk-desk", **kwargs)
    with pytest.raises(GoldDatasetInvalid, match=r"already g version 1 with segment column None"):
        lk.gold.add("g", rows(), owner="risk-desk", segment_column="region", **kwargs)


def test_csv_text_and_integer_categories_keep_their_form(lk: Lightkeeper, tmp_path: Path) -> None:
    from lightkeeper.gold import conform, read_table
    from lightkeeper.manifest import parse_manifest

    manifest = parse_manifest(
        "name: m\nkind: batch\nentrypoints: {train: t:train}\ninput_schema:\n"
        "  - {name: zip, type: str}\n  - {name: tier, type: category, categories: [1, 2, 3]}\n"
        "  - {name: vip, type: bool, required: false}\n"
    )
    path = tmp_path / "g.csv"
    path.write_text("zip,tier,vip,label\n01234,2,1.0,1\n99999,3,,0\n")
    frame = conform(read_table(path, manifest), manifest, label_column="label", segment_column=None)
    assert frame["zip"].tolist() == ["01234", "99999"]
    assert frame["tier"].tolist() == [2, 3] and isinstance(frame["tier"][0], int)
    assert frame["vip"][0] is True or frame["vip"][0] == True  # noqa: E712
