"""The application object builds every feature from what its constructor names."""

from __future__ import annotations

from pathlib import Path

import pytest

from lightkeeper import Lightkeeper
from lightkeeper.store.deploy import DeployStore

FEATURES = (
    "access",
    "training",
    "gold",
    "gate",
    "releases",
    "batch",
    "batch_watch",
    "drift",
    "performance",
    "labels",
    "monitor_schedule",
    "watchdog",
    "dispatcher",
    "alarms",
)


def test_every_feature_is_built_once_with_the_workspace_parts(lk: Lightkeeper) -> None:
    for name in FEATURES:
        feature = getattr(lk, name)
        assert getattr(lk, name) is feature, f"{name} is built again on each use"
    assert lk.releases._deployments is lk.stores.deployments
    plane = lk.control_plane("up-test")
    assert [loop.name for loop in plane.loops] == [
        "rollout",
        "batch-cadence",
        "watchdog",
        "monitors",
        "alarm-dispatch",
        "log-compaction",
    ]


def test_a_feature_that_needs_what_the_workspace_lacks_is_a_clear_error(
    lk: Lightkeeper,
) -> None:
    class Needy:
        def __init__(self, *, deployments: DeployStore, crystal_ball: object) -> None:
            self.deployments = deployments

    with pytest.raises(TypeError, match=r"no 'crystal_ball' for .*Needy"):
        lk._build(Needy)
    built = lk._build(Needy, crystal_ball=object())
    assert built.deployments is lk.stores.deployments


def test_building_the_object_and_a_feature_starts_neither_store(tmp_path: Path) -> None:
    from lightkeeper.testing import workspace

    lk = workspace(tmp_path / "home")
    assert "database" not in vars(lk) and "registry" not in vars(lk)
    assert lk.gold is lk.gold  # the ops database opens; MLflow (seconds) waits for use
    assert not (tmp_path / "home" / "mlflow.db").exists()
    lk.close()


def test_features_act_as_the_default_caller_when_no_one_is_named(lk: Lightkeeper) -> None:
    """``by=`` left out: the local user acts as admin with auth off; with auth on and no
    token the action is refused, naming what to do."""
    from lightkeeper import Settings
    from lightkeeper.errors import Unauthenticated

    deployment_less = lk.alarms.find()
    assert deployment_less == []
    token, _ = lk.access.create("first", "admin")
    assert token.created_by == lk.principal().name
    secured = Lightkeeper(
        Settings.load(
            {"home": lk.settings.home, "database_url": lk.settings.database_url, "auth": True},
            environ={},
        )
    )
    with pytest.raises(Unauthenticated, match="no API token was given"):
        secured.releases.create("nowhere", model="credit", kind="online")
    secured.close()
