"""The rollout controller: promote a good challenger, take a bad one out by itself.

For each deployment with a challenger it reads the prediction logs since the release and
compares the arms: error rate, p99 latency and prediction divergence. The policy is the
challenger's manifest ``rollout`` section. A rollback can come early (errors show quickly);
a promotion only after the observation period and the minimum traffic. Each decision is
a release record by ``rollout-controller`` plus a ``rollout.decided`` event with the
evidence, which the alarm system picks up. A database lease keeps it to one acting
process across ``lightkeeper up`` and ``lightkeeper serve`` instances.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lightkeeper.auth import Principal
from lightkeeper.decisions import Decision
from lightkeeper.errors import (
    DatabaseUnavailable,
    GateRunNotFound,
    ModelStoreUnavailable,
    ReleaseRefused,
    first_line,
)
from lightkeeper.events import RolloutDecided
from lightkeeper.manifest import Rollout
from lightkeeper.periodic import Periodic

if TYPE_CHECKING:
    from lightkeeper.clock import Clock
    from lightkeeper.deploy.releases import Releases
    from lightkeeper.events import EventBus
    from lightkeeper.logstore import LogStore
    from lightkeeper.registry import Registry
    from lightkeeper.store.deploy import DeployStore, Release
    from lightkeeper.store.gate import GateStore
    from lightkeeper.store.leases import LeaseStore

log = logging.getLogger(__name__)

CONTROLLER = Principal("rollout-controller", "admin")
LEASE = "rollout:{}"  # one lease per deployment
EARLY_ROLLBACK_MIN = 20  # challenger predictions before an error-rate rollback may happen
MIN_FOR_SHAPE = 30  # successful predictions per arm before p99 and divergence count
WINDOW_ROWS = 50_000


@dataclass
class ArmStats:
    """What the logs say about one arm since the release."""

    predictions: int = 0
    errors: int = 0  # the model raised on rows that passed validation: counts against it
    flagged_errors: int = 0  # it raised on rows a client sent with flagged values: does not
    latencies: list[float] = field(default_factory=list)
    outputs: dict[tuple[str, int], Any] = field(default_factory=dict)

    @property
    def error_rate(self) -> float:
        """Share of predictions that raised."""
        return self.errors / self.predictions if self.predictions else 0.0

    @property
    def p99_ms(self) -> float | None:
        """99th percentile model latency of successful predictions."""
        if len(self.latencies) < MIN_FOR_SHAPE:
            return None
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]

    def summary(self) -> dict[str, Any]:
        """JSON-ready evidence."""
        p99 = self.p99_ms
        return {
            "predictions": self.predictions,
            "errors": self.errors,
            "flagged_errors": self.flagged_errors,
            "error_rate": round(self.error_rate, 4),
            "p99_ms": None if p99 is None else round(p99, 3),
        }


@dataclass(frozen=True)
class Verdict:
    """promote, rollback or wait, and why."""

    action: str
    reason: str
    evidence: dict[str, Any]


def divergence(
    champion: ArmStats, challenger: ArmStats, *, paired: bool, numeric: bool
) -> float | None:
    """How differently the arms predict, in [0, 1].

    Shadow traffic is paired (same request, same row): the share of rows where the
    labels differ. Canary traffic is not: the total variation distance between the
    label distributions, or for numeric (regression) outputs the two-sample KS statistic.
    """
    if len(champion.outputs) < MIN_FOR_SHAPE or len(challenger.outputs) < MIN_FOR_SHAPE:
        return None
    if paired and not numeric:
        common = champion.outputs.keys() & challenger.outputs.keys()
        if len(common) < MIN_FOR_SHAPE:
            return None
        differ: int = sum(champion.outputs[k] != challenger.outputs[k] for k in common)
        return differ / len(common)
    a, b = list(champion.outputs.values()), list(challenger.outputs.values())
    if numeric:
        from scipy.stats import ks_2samp

        return float(ks_2samp(a, b).statistic)
    ca, cb = Counter(map(str, a)), Counter(map(str, b))
    return 0.5 * sum(abs(ca[k] / len(a) - cb[k] / len(b)) for k in ca.keys() | cb.keys())


def judge(
    champion: ArmStats,
    challenger: ArmStats,
    policy: Rollout,
    *,
    elapsed: float,
    paired: bool,
    numeric: bool = False,
    compared: bool = True,
) -> Verdict:
    """The controller's decision for one challenger.

    Args:
        numeric: a regression model (outputs compared as numbers).
        compared: the challenger's gate run compared it with the deployment's current
            champion; without that, the controller never promotes.
    """
    spread = divergence(champion, challenger, paired=paired, numeric=numeric)
    evidence = {
        "champion": champion.summary(),
        "challenger": challenger.summary(),
        "divergence": None if spread is None else round(spread, 4),
        "elapsed_seconds": round(elapsed, 1),
        "policy": policy.model_dump(),
    }
    if (
        challenger.predictions >= EARLY_ROLLBACK_MIN
        and challenger.error_rate > policy.max_error_rate
        and challenger.error_rate > champion.error_rate
    ):
        return Verdict(
            "rollback",
            f"challenger error rate {challenger.error_rate:.1%} over {challenger.predictions} "
            f"predictions is above the allowed {policy.max_error_rate:.1%} (champion "
            f"{champion.error_rate:.1%})",
            evidence,
        )
    observed = elapsed >= policy.observe_seconds and challenger.predictions >= policy.min_requests
    if not observed:
        return Verdict(
            "wait",
            f"observing: {challenger.predictions}/{policy.min_requests} predictions, "
            f"{elapsed:.0f}/{policy.observe_seconds:.0f} s",
            evidence,
        )
    ours, theirs = challenger.p99_ms, champion.p99_ms
    floor = max(theirs or 0.0, policy.p99_floor_ms, 1.0)  # 6 ms -> 18 ms is no regression
    if ours is not None and theirs is not None and ours > policy.max_p99_ratio * floor:
        return Verdict(
            "rollback",
            f"challenger p99 latency {ours:.1f} ms is more than {policy.max_p99_ratio:g}x the "
            f"champion's {theirs:.1f} ms"
            + (f" (floor {policy.p99_floor_ms:g} ms)" if floor > theirs else ""),
            evidence,
        )
    if spread is not None and spread > policy.max_divergence:
        return Verdict(
            "rollback",
            f"challenger predictions diverge from the champion's by {spread:.2f}, above the "
            f"allowed {policy.max_divergence:g}",
            evidence,
        )
    if challenger.flagged_errors:
        return Verdict(
            "wait",
            f"healthy on valid rows, but it raised on {challenger.flagged_errors} request(s) "
            "with values the manifest only flags; errors a client can cause never roll "
            "back, and they hold promotion for a person (lightkeeper promote after a look)",
            evidence,
        )
    if paired and policy.promote_shadow != "auto":
        return Verdict(
            "wait",
            "healthy on shadow; a shadow is promoted by hand (lightkeeper promote) unless the "
            "manifest says rollout.promote_shadow: auto",
            evidence,
        )
    if not paired and policy.promote == "manual":
        return Verdict("wait", "healthy; promotion is manual: lightkeeper promote", evidence)
    if not compared:
        return Verdict(
            "wait",
            "healthy, but its gate run did not compare it with the deployment's current "
            "champion: run lightkeeper gate run with --deployment, or promote by hand",
            evidence,
        )
    return Verdict(
        "promote",
        f"healthy after {elapsed:.0f} s and {challenger.predictions} predictions: error rate "
        f"{challenger.error_rate:.1%}, p99 {_ms(ours)}, divergence {_num(spread)}",
        evidence,
    )


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} ms"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


class RolloutController:
    """Watch challengers and act on their verdicts (one process per deployment, by lease)."""

    def __init__(
        self,
        *,
        releases: Releases,
        deployments: DeployStore,
        gates: GateStore,
        predictions: LogStore,
        leases: LeaseStore,
        registry: Registry,
        bus: EventBus,
        clock: Clock,
        holder: str,
        only: str | None = None,
        interval: float = 1.0,
    ) -> None:
        self.releases = releases
        self.deployments = deployments
        self.gates = gates
        self.predictions = predictions
        self.leases = leases
        self.registry = registry
        self.bus = bus
        self.clock = clock
        self.holder = holder
        self.only = only
        self.interval = interval
        self._held: set[str] = set()
        self._policies: dict[tuple[str, int], tuple[Rollout, bool]] = {}
        self._loop: Periodic | None = None
        self._failing: str | None = None

    # -- its own thread, until the control plane runs the rounds ------------------------
    def start(self) -> None:
        """Run :meth:`tick` every ``interval`` seconds in a background thread."""
        self._loop = Periodic("lk-rollout", self.interval, self._tick_safely)
        self._loop.start()

    def stop(self) -> None:
        """Stop the thread and give the leases up."""
        if self._loop is not None:
            self._loop.stop()
        self.release_leases()

    def _tick_safely(self) -> None:
        try:
            self.tick()
        except Exception as exc:  # the database is down, say: try again next tick
            message = first_line(exc)
            if message != self._failing:
                log.warning("rollout controller: %s", message)
                self._failing = message
        else:
            self._failing = None

    # -- one round ----------------------------------------------------------------------
    def tick(self) -> list[Decision]:
        """One pass over the deployments with a challenger; one decision for each.

        Each deployment has its own lease, so a ``serve`` process controlling its own
        deployment does not keep ``lightkeeper up`` from controlling the others. A
        deployment without a challenger has nothing to decide and gets no decision.

        Raises:
            DatabaseUnavailable, ModelStoreUnavailable: the whole round waits for the
                store to come back.
        """
        decisions = []
        names = [self.only] if self.only else [d.name for d in self.deployments.all()]
        seconds = max(10.0, 5 * self.interval)
        for name in names:
            current = self.deployments.current(name)
            if current is None or current.challenger is None:
                continue
            if not self.leases.acquire(LEASE.format(name), self.holder, seconds=seconds):
                self._held.discard(name)
                decisions.append(Decision.skipped(name, "lease held by another process"))
                continue
            self._held.add(name)
            try:
                verdict = self.check(name, current)
            except (DatabaseUnavailable, ModelStoreUnavailable):
                raise
            except Exception as exc:  # one deployment's problem must not stop the others
                log.warning("rollout controller: %s: %s", name, first_line(exc))
                decisions.append(Decision.failed(name, first_line(exc)))
                continue
            decisions.append(self._act(name, current, verdict))
        return decisions

    def release_leases(self) -> None:
        """Give up the leases held, so another process takes over at once."""
        for name in self._held:
            try:
                self.leases.release(LEASE.format(name), self.holder)
            except Exception as exc:  # the lease expires by itself
                log.debug("cannot release the rollout lease of %s: %s", name, exc)
        self._held.clear()

    def check(self, deployment: str, current: Release) -> Verdict:
        """The verdict on ``deployment``'s challenger now."""
        assert current.challenger is not None
        model = self.deployments.get(deployment).model
        policy, numeric = self._policy(model, current.challenger)
        champion, challenger = self._stats(deployment, current)
        elapsed = (self.clock.now() - current.at).total_seconds()
        paired = current.strategy == "shadow"
        args = (champion, challenger, policy)
        verdict = judge(*args, elapsed=elapsed, paired=paired, numeric=numeric)
        if verdict.action == "promote" and not self._compared(deployment, current):
            # asked only before promoting: taking a bad challenger out needs no comparison
            verdict = judge(*args, elapsed=elapsed, paired=paired, numeric=numeric, compared=False)
        return verdict

    def _compared(self, deployment: str, current: Release) -> bool:
        """Whether the challenger's gate run compared it with this deployment's champion."""
        if current.champion is None:
            return True  # nothing to compare with
        if current.gate_run_id is None:
            return False
        try:
            run = self.gates.get(current.gate_run_id)
        except GateRunNotFound:
            return False
        return run.compared_with(deployment, current.champion)

    def _act(self, deployment: str, current: Release, verdict: Verdict) -> Decision:
        """Carry a verdict out on exactly the state it judged (unless it says wait)."""
        if verdict.action == "wait":
            return Decision.skipped(deployment, f"wait: {verdict.reason}", key="wait")
        reason = f"rollout controller: {verdict.reason}"
        act = self.releases.rollback if verdict.action == "rollback" else self.releases.promote
        try:
            act(deployment, reason=reason, by=CONTROLLER, expected=current.id)
        except ReleaseRefused as exc:  # an operator changed it meanwhile: theirs stands
            log.info("%s: verdict %s dropped: %s", deployment, verdict.action, exc.message)
            return Decision.skipped(deployment, f"{verdict.action} dropped: {exc.message}")
        assert current.challenger is not None
        self.bus.publish(
            RolloutDecided(
                actor=CONTROLLER.name,
                reason=verdict.reason,
                deployment=deployment,
                model=self.deployments.get(deployment).model,
                decision=verdict.action,
                challenger=current.challenger,
                champion=current.champion,
                evidence=verdict.evidence,
            )
        )
        log.warning("%s: %s", deployment, reason)
        return Decision.ran(deployment, f"{verdict.action}: {verdict.reason}")

    def _policy(self, model: str, version: int) -> tuple[Rollout, bool]:
        """The version's rollout policy, and whether its outputs are numbers (regression)."""
        key = (model, version)
        if key not in self._policies:
            manifest = self.registry.manifest(model, version)
            if manifest is None:
                self._policies[key] = (Rollout(), False)
            else:
                target = manifest.target
                regression = target is not None and target.task == "regression"
                self._policies[key] = (manifest.rollout, regression)
        return self._policies[key]

    def _stats(self, deployment: str, current: Release) -> tuple[ArmStats, ArmStats]:
        champion, challenger = ArmStats(), ArmStats()
        rows = self.predictions.outcomes(deployment, since=current.at, limit=WINDOW_ROWS)
        for arm, version, request_id, row, output, latency, error, flags in rows:
            if version == current.challenger and arm in ("challenger", "shadow"):
                stats = challenger
            elif version == current.champion and arm == "champion":
                stats = champion
            else:
                continue
            if error is not None:
                if flags:  # the client sent values the manifest only flags: not the model's fault
                    stats.flagged_errors += 1
                else:
                    stats.predictions += 1
                    stats.errors += 1
                continue
            stats.predictions += 1
            stats.latencies.append(latency)
            stats.outputs[(request_id, row)] = output
        return champion, challenger
