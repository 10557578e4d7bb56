"""Helpers of the gate's evaluation step."""

import numpy as np
import pandas as pd

from lightkeeper.gate.evaluate import Scored, _in_order, align_labels


def test_champion_probabilities_follow_the_candidates_class_order() -> None:
    champion = Scored(1, np.array(["a", "b"]), np.array([[0.1, 0.9], [0.8, 0.2]]), ["b", "a"])
    assert _in_order(champion, ["a", "b"]).tolist() == [[0.9, 0.1], [0.2, 0.8]]
    assert _in_order(champion, ["b", "a"]) is champion.proba
    assert _in_order(champion, ["a", "c"]) is None
    assert _in_order(Scored(1, np.array([1]), None, None), ["a"]) is None


def test_gold_labels_take_the_type_of_the_predictions() -> None:
    as_text = align_labels(pd.Series([1, 0]), np.array(["1", "0"], dtype=object))
    assert as_text.tolist() == ["1", "0"]
    as_int = align_labels(pd.Series(["1", "0"]), np.array([1, 0]))
    assert as_int.tolist() == [1, 0]
