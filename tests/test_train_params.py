"""``lightkeeper train --param KEY=VALUE``: params for the entrypoint, logged on the run."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import mlflow
import pytest

from lightkeeper import Lightkeeper
from lightkeeper.errors import InvalidInput
from lightkeeper.testing import ANALYST
from lightkeeper.training import parse_params
from support import make_project

REMEMBER = "__import__('pathlib').Path(__file__).with_name('given.json').write_text(__import__('json').dumps(params))"  # noqa: E501


def with_signature(project: Path, signature: str, prelude: str = "pass") -> Path:
    """The project, its train entrypoint given ``signature`` (and ``prelude`` as its first
    line) and made to write down the params it got (``given.json``) and to fit with ``C``
    from them."""
    [module] = project.glob("train_*.py")
    text = module.read_text()
    text = text.replace("def train():", f"def train({signature}):\n    {prelude}")
    text = text.replace("LogisticRegression()", "LogisticRegression(C=params.get('C', 1.0))")
    module.write_text(text)
    return project


@pytest.fixture
def takes_params(tmp_path: Path) -> Path:
    return with_signature(make_project(tmp_path / "p", after=REMEMBER), "params")


def run_params(lk: Lightkeeper, run_id: str) -> dict[str, str]:
    with lk.registry.activate():
        return dict(mlflow.get_run(run_id).data.params)


def test_params_reach_the_entrypoint_and_the_mlflow_run(
    lk: Lightkeeper, takes_params: Path
) -> None:
    given = parse_params(["C=0.25", "solver=lbfgs", "max_iter=200", "balanced=true"])
    info = lk.training.train(takes_params, by=ANALYST, params=given)
    assert json.loads((takes_params / "given.json").read_text()) == {
        "C": 0.25,
        "solver": "lbfgs",
        "max_iter": 200,
        "balanced": True,
    }
    assert lk.load("credit-risk", info.version).model[-1].C == 0.25
    assert run_params(lk, info.run_id) == {
        "C": "0.25",
        "solver": "lbfgs",
        "max_iter": "200",
        "balanced": "True",
    }
    lk.training.train(takes_params, by=ANALYST)  # no --param: an entrypoint with params gets {}
    assert json.loads((takes_params / "given.json").read_text()) == {}


def test_an_entrypoint_without_params_trains_as_before_and_refuses_them(
    lk: Lightkeeper, project: Path, tmp_path: Path
) -> None:
    with pytest.raises(InvalidInput, match=r"entrypoint train_\w+:train takes no params, so C=1"):
        lk.training.train(project, by=ANALYST, params={"C": 1})
    assert lk.registry.list_models() == []  # refused before any MLflow run
    assert lk.training.train(project, by=ANALYST).version == 1
    kwargs = make_project(tmp_path / "k", "kw", after=REMEMBER)
    with_signature(kwargs, "**kw", prelude="params = kw['params']")
    lk.training.train(kwargs, by=ANALYST, params={"C": 2.0})
    assert json.loads((kwargs / "given.json").read_text()) == {"C": 2.0}


def test_values_are_typed_by_how_they_are_written_and_bad_items_are_refused() -> None:
    items = ["a=42", "b=-3", "c=007", "d=0.5", "e=.5", "f=1e-3", "g=TRUE", "h=false"]
    items += ["i=nan", "j=", "k=x=y", "model.depth=1_000"]
    assert parse_params(items) == {
        **{"a": 42, "b": -3, "c": "007", "d": 0.5, "e": 0.5, "f": 0.001, "g": True},
        **{"h": False, "i": "nan", "j": "", "k": "x=y", "model.depth": "1_000"},
    }
    for bad in ("depth", "=1", "max depth=1", "1x=2"):
        with pytest.raises(InvalidInput, match=r"is not KEY=VALUE with a plain name as KEY"):
            parse_params([bad])
    with pytest.raises(InvalidInput, match="--param C is given twice"):
        parse_params(["C=1", "C=2"])


def test_the_command_line_passes_and_shows_them(
    cli: Callable[..., tuple[int, str, str]], takes_params: Path, project: Path
) -> None:
    code, out, err = cli("train", str(takes_params), "--param", "C=0.5", "--param", "solver=saga")
    assert code == 0, err
    assert "params   C=0.5, solver='saga'" in out
    code, out, err = cli("train", str(takes_params), "--param", "C=0.5", "--json")
    assert code == 0 and json.loads(out)["version"] == 2
    code, _, err = cli("train", str(takes_params), "--param", "C")
    assert code == 2 and "LK-INVALID-INPUT" in err and "'C' is not KEY=VALUE" in err
    code, _, err = cli("train", str(project), "--param", "C=0.5")
    assert code == 2 and "LK-INVALID-INPUT" in err and "takes no params" in err
    assert "give the function a params argument" in " ".join(err.split())
