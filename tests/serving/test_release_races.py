"""Two decisions on the same state: the second is refused, never applied on top."""

from __future__ import annotations

import pytest

from lightkeeper import Lightkeeper, ReleaseRefused
from lightkeeper.deploy.rollout import CONTROLLER
from lightkeeper.testing import OPERATOR


def test_a_stale_decision_is_refused_by_the_store(lk: Lightkeeper) -> None:
    first = lk.releases.release("credit-online", 1, reason="first", by=OPERATOR)
    lk.releases.release(
        "credit-online", 2, strategy="canary", percent=10, reason="canary", by=OPERATOR
    )
    with pytest.raises(ReleaseRefused, match=r"changed while this was decided"):
        lk.stores.deployments.add(
            "credit-online",
            based_on=first.id,
            action="rollback",
            champion=1,
            challenger=None,
            strategy="direct",
            percent=None,
            gate_run_id=None,
            actor="someone",
            reason="decided on an old state",
        )
    assert lk.releases.current("credit-online").challenger == 2


def test_the_controller_cannot_undo_an_operators_promotion(lk: Lightkeeper) -> None:
    lk.releases.release("credit-online", 1, reason="first", by=OPERATOR)
    canary = lk.releases.release(
        "credit-online", 2, strategy="canary", percent=10, reason="c", by=OPERATOR
    )
    lk.releases.promote("credit-online", reason="the operator was faster", by=OPERATOR)
    with pytest.raises(ReleaseRefused, match=f"changed since release {canary.id} was judged"):
        lk.releases.rollback(
            "credit-online", reason="late verdict", by=CONTROLLER, expected=canary.id
        )
    assert lk.releases.current("credit-online").champion == 2
