"""Releases change a deployment's desired state; the data plane follows it.

The desired state is the newest release record: a champion, and optionally a challenger
on canary (a share of traffic) or shadow (a copy of the traffic, off the response path).
Every change is a new record with who, when, why and the gate sign-off that allowed it,
so rollback is one step. Each deployment's MLflow aliases, ``champion-<deployment>`` and
``challenger-<deployment>``, mirror it: one model can run in several deployments, each
with its own champion.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from lightkeeper.auth import Principal, Whoami
from lightkeeper.errors import GateRunNotFound, InvalidInput, ReleaseRefused
from lightkeeper.events import DesiredStateChanged, EventBus
from lightkeeper.names import check_name, check_version
from lightkeeper.registry import Registry
from lightkeeper.store.deploy import Deployment, DeployStore, Release
from lightkeeper.store.gate import GateStore

log = logging.getLogger(__name__)

Strategy = Literal["direct", "canary", "shadow"]
STRATEGIES: tuple[Strategy, ...] = ("direct", "canary", "shadow")


class Releases:
    """Deployments and their releases: create, release, promote, roll back, and read.

    Acting methods take ``by=``, the caller; without it the workspace's default caller
    acts (see :data:`~lightkeeper.auth.Whoami`).
    """

    def __init__(
        self,
        *,
        deployments: DeployStore,
        gates: GateStore,
        registry: Registry,
        bus: EventBus,
        whoami: Whoami,
    ) -> None:
        self._deployments = deployments
        self._gates = gates
        self._registry = registry
        self._bus = bus
        self._whoami = whoami

    def create(
        self, name: str, *, model: str, kind: str, by: Principal | None = None
    ) -> Deployment:
        """A named place for a model to run: kind online, batch or stream."""
        by = by or self._whoami()
        by.require("deploy.create")
        if kind not in ("online", "batch", "stream"):
            raise InvalidInput(
                f"{kind!r} is not a deployment kind", hint="use online, batch or stream"
            )
        check_name(name, "deployment")
        self._registry.get_model(model)
        return self._deployments.create(name, model, kind, actor=by.name)

    def release(
        self,
        deployment: str,
        version: int | str,
        *,
        strategy: str = "direct",
        percent: float | None = None,
        reason: str,
        by: Principal | None = None,
    ) -> Release:
        """Put a version into a deployment; refused without an accepted gate run."""
        by = by or self._whoami()
        by.require("deploy.release")
        version = check_version(version)
        target = self._deployments.get(deployment)
        if strategy not in STRATEGIES:
            raise InvalidInput(
                f"{strategy!r} is not a release strategy", hint="use direct, canary or shadow"
            )
        if not reason.strip():
            raise InvalidInput(
                "a release needs a reason for the audit trail", hint='add --reason "why now"'
            )
        if strategy == "shadow" and target.kind == "batch":
            raise ReleaseRefused(
                f"{deployment} is a batch deployment; shadow copies live traffic",
                hint="use --strategy canary --percent N: a share of entities (by key) is "
                "scored with the challenger and every row records its version",
            )
        if isinstance(version, int) or (str(version).isascii() and str(version).isdigit()):
            # a version gated but not accepted is refused from the ops database alone,
            # without starting the model store (seconds of MLflow start-up)
            try:
                self._gates.latest(target.model, int(version))
            except GateRunNotFound:
                pass  # unknown here: the model store says whether it exists at all
            else:
                self._gates.accepted(target.model, int(version))
        number = self._registry.get_version(target.model, version).version
        signoff = self._gates.accepted(target.model, number)
        current = self.current(deployment)
        champion = current.champion if current else None
        state: dict[str, Any]
        if strategy == "direct":
            state = {"champion": number, "challenger": None, "strategy": "direct", "percent": None}
        else:
            if champion is None:
                raise ReleaseRefused(
                    f"{deployment} has no champion yet, so there is nothing to {strategy} against",
                    hint=f"release the first version directly: lightkeeper release {deployment} "
                    f"{number} --strategy direct",
                )
            if champion == number:
                raise ReleaseRefused(
                    f"version {number} is already the champion of {deployment}",
                    hint="release another version as challenger",
                )
            share = _percent(strategy, percent)
            state = {
                "champion": champion,
                "challenger": number,
                "strategy": strategy,
                "percent": share,
            }
        return self._record(
            deployment,
            target.model,
            "release",
            state,
            reason,
            by,
            based_on=current.id if current else None,
            gate_run_id=signoff.gate_run_id,
        )

    def promote(
        self,
        deployment: str,
        *,
        reason: str,
        by: Principal | None = None,
        expected: int | None = None,
    ) -> Release:
        """The challenger becomes the champion (only if the newest release is still
        ``expected``, when given)."""
        by = by or self._whoami()
        by.require("deploy.release")
        target = self._deployments.get(deployment)
        current = self.current(deployment)
        _check_expected(deployment, current, expected)
        if current is None or current.challenger is None:
            raise ReleaseRefused(
                f"{deployment} has no challenger to promote",
                hint="release a version with --strategy canary or shadow first",
            )
        state = {
            "champion": current.challenger,
            "challenger": None,
            "strategy": "direct",
            "percent": None,
        }
        return self._record(deployment, target.model, "promote", state, reason, by, current.id)

    def rollback(
        self,
        deployment: str,
        *,
        reason: str = "rollback",
        by: Principal | None = None,
        expected: int | None = None,
    ) -> Release:
        """One step back: drop the challenger, or else return to the previous champion."""
        by = by or self._whoami()
        by.require("deploy.rollback")
        target = self._deployments.get(deployment)
        history = self._deployments.history(deployment)
        if not history:
            raise ReleaseRefused(f"{deployment} has never been released", hint="nothing to undo")
        current = history[0]
        _check_expected(deployment, current, expected)
        if current.challenger is not None:
            state = {
                "champion": current.champion,
                "challenger": None,
                "strategy": "direct",
                "percent": None,
            }
        else:
            previous = _previous_champion(history)
            if previous is None:
                raise ReleaseRefused(
                    f"{deployment} has had only one champion (version {current.champion}), so "
                    "there is no previous version to return to",
                    hint="release another version instead",
                )
            state = {
                "champion": previous,
                "challenger": None,
                "strategy": "direct",
                "percent": None,
            }
        return self._record(deployment, target.model, "rollback", state, reason, by, current.id)

    def deployments(self) -> list[Deployment]:
        """Every deployment."""
        return self._deployments.all()

    def deployment(self, name: str) -> Deployment:
        """One deployment (:class:`~lightkeeper.errors.DeploymentNotFound` if none)."""
        return self._deployments.get(name)

    def current(self, deployment: str) -> Release | None:
        """The desired state: the newest release record, ``None`` before the first release."""
        return self._deployments.current(deployment)

    def history(self, deployment: str, *, limit: int = 1000) -> list[Release]:
        """A deployment's releases, newest first."""
        self._deployments.get(deployment)
        return self._deployments.history(deployment, limit=limit)

    def _record(
        self,
        deployment: str,
        model: str,
        action: str,
        state: dict[str, Any],
        reason: str,
        by: Principal,
        based_on: int | None,
        *,
        gate_run_id: int | None = None,
    ) -> Release:
        record = self._deployments.add(
            deployment,
            based_on=based_on,
            action=action,
            gate_run_id=gate_run_id,
            actor=by.name,
            reason=reason,
            **state,
        )
        # the aliases and the audit entry describe the record this call inserted (the
        # store returns exactly that one, even when other processes release meanwhile)
        self._mirror_aliases(model, deployment, record)
        self._bus.publish(
            DesiredStateChanged(
                actor=record.actor,
                reason=record.reason,
                deployment=deployment,
                model=model,
                release_id=record.id,
                action=record.action,
                champion=record.champion,
                challenger=record.challenger,
                strategy=record.strategy,
                percent=record.percent,
            )
        )
        return record

    def _mirror_aliases(self, model: str, deployment: str, record: Release) -> None:
        """The deployment's MLflow aliases show the same truth to other tools."""
        try:
            self._registry.set_deployment_aliases(
                model, deployment, champion=record.champion, challenger=record.challenger
            )
        except Exception as exc:  # the release stands; the mirror is best effort, and said
            log.error("cannot mirror release %s to MLflow aliases of %s: %s", record.id, model, exc)


def _check_expected(deployment: str, current: Release | None, expected: int | None) -> None:
    if expected is not None and (current is None or current.id != expected):
        raise ReleaseRefused(
            f"{deployment} changed since release {expected} was judged "
            f"(newest is {current.id if current else None})",
            hint=f"look again: lightkeeper releases {deployment}",
        )


def _percent(strategy: str, percent: float | None) -> float:
    if strategy == "shadow":
        return 100.0 if percent is None else _checked(percent)
    if percent is None:
        raise InvalidInput("a canary needs --percent", hint="for example --percent 10")
    return _checked(percent)


def _checked(percent: float) -> float:
    if not 0 < percent <= 100:
        raise InvalidInput(f"--percent {percent:g} is outside (0, 100]", hint="use 1 to 100")
    return float(percent)


def _previous_champion(history: list[Release]) -> int | None:
    """The champion before the current one took over (history newest first)."""
    current = history[0].champion
    # the record that made the current champion champion (not by a rollback)
    index = next(
        (i for i, r in enumerate(history) if r.champion == current and r.action != "rollback"),
        None,
    )
    if index is None:
        return None
    for record in history[index + 1 :]:
        if record.champion is not None and record.champion != current:
            return record.champion
    return None
